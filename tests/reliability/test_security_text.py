"""Terminal escapes and leaked secrets (issue 16, items 5 and 6): generated hostile names never
reach a terminal raw, generated passwords never appear in an error, a log line or a page."""
from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import REPO_ROOT
from core.ingest import ImportFailed, import_path
from core.ingest.records import RowError
from core.text import mask_secrets, masked_url, safe_message, safe_terminal
from tests.helpers import write_image
from tests.reliability.corpus import REPORT

HYP = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
# what an attacker puts in a file name: clear screen, set the window title, move up and erase a
# line, a fake success line, bell, backspace, C1 CSI, DEL, bidi override, line separator
ATTACKS = ["\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b[1A\x1b[2K", "\rimported 100 rows", "\nimport ok",
           "\x07", "\x08\x08", "\x9b31m", "\x7f", "\u202egnp.exe", "\u2028", "\x1bP+q\x1b\\", "\x00"]
HOSTILE = st.lists(st.one_of(st.sampled_from(ATTACKS), st.text(min_size=1, max_size=6)), min_size=1,
                   max_size=6).map("".join)


def raw_controls(text: str, *, newlines_ok: bool = False) -> list[str]:
    """Characters a terminal would act on instead of showing."""
    bad = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
    return [c for c in text if c != "\t" and not (newlines_ok and c == "\n")
            and (c in bad or unicodedata.category(c) == "Cc")]


@settings(HYP, max_examples=400)
@given(HOSTILE)
def test_safe_terminal_leaves_no_control_character(name):
    shown = safe_terminal(name)
    ok = not raw_controls(shown)
    REPORT.record("terminal escapes: generated names", clear_error=ok, crash=not ok)
    assert ok, repr(shown)
    assert "\n" not in shown  # one line: no fake second line
    printable = "".join(c for c in name if not raw_controls(c) and c != "\t")
    assert printable in shown.replace("\\", "") or all(c in shown for c in printable)


def test_safe_terminal_shows_the_escapes_legibly():
    assert safe_terminal("a\x1b[2Jb\rc\nd\u202e") == "a\\x1b[2Jb\\rc\\nd\\u202e"
    assert safe_terminal("l1\nl2\x1b", keep_newlines=True) == "l1\nl2\\x1b"
    assert safe_terminal("Ünïcödé 😀\tok") == "Ünïcödé 😀\tok"


@settings(HYP, max_examples=150)
@given(HOSTILE, st.one_of(st.none(), st.integers(1, 10**6)), st.sampled_from([None, "image_path", "emotion"]))
def test_row_errors_are_one_safe_line(name, line, field):
    text = str(RowError(name, line, field, f"cannot read {name}"))
    ok = not raw_controls(text)
    REPORT.record("terminal escapes: row errors", clear_error=ok, crash=not ok)
    assert ok and "\n" not in text, repr(text)


@pytest.mark.parametrize("attack", ATTACKS[:-1])  # NUL cannot be in a file name
def test_import_error_names_hostile_files_safely(env, attack):
    """A folder whose image names carry the attack: the refusal lists them, escaped."""
    root = env / "in"
    write_image(root / "Happy" / "ok.png", 1)
    bad = root / "Happy" / f"x{attack.replace('/', '_')}.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImportFailed) as info:
        import_path("folder", root, dataset="d")
    message = str(info.value)
    lines_ok = not raw_controls(message, newlines_ok=True)
    one_line_each = all(line.startswith(("  ", "1 invalid")) for line in message.splitlines())
    REPORT.record("terminal escapes: import refusals", clear_error=lines_ok and one_line_each,
                  crash=not (lines_ok and one_line_each))
    assert lines_ok and one_line_each, repr(message)


PASSWORD = st.text(st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="/?#[]"),
                   min_size=4, max_size=24).filter(lambda p: p.strip("%@:") != "")


@settings(HYP, max_examples=300)
@given(PASSWORD, st.sampled_from(["postgresql+psycopg", "postgresql", "mysql+pymysql", "postgres"]))
def test_generated_passwords_never_survive_masking(pw, scheme):
    url = f"{scheme}://alice:{quote(pw, safe='')}@db.example:5432/affect"
    messages = [url, f"could not connect to {url}", f"invalid interpolation syntax in '{url.replace('%', '%%')}'",
                f"password {pw} rejected", f"FATAL: password authentication failed ({quote(pw, safe='')})"]
    leaked = [m for m in [mask_secrets(x, (url,)) for x in messages] + [masked_url(url)]
              if pw in m or quote(pw, safe="") in m]
    REPORT.record("secrets: generated passwords", clear_error=not leaked, crash=bool(leaked))
    assert not leaked, leaked
    assert masked_url(url).startswith(f"{scheme}://alice:***@db.example")


def test_mask_secrets_reads_the_configured_url(monkeypatch):
    monkeypatch.setenv("AFFECTLAB_DB_URL", "postgresql+psycopg://bob:Tr0ub4dor&3@h/db")
    assert mask_secrets("login Tr0ub4dor&3 failed") == "login *** failed"
    assert safe_message(RuntimeError("x\x1b[2J postgresql://a:Tr0ub4dor&3@h")) == "x\\x1b[2J postgresql://a:***@h"
    assert safe_message("a\nb") == "a\\nb" and safe_message("a\nb", keep_newlines=True) == "a\nb"


PG_URLS = ["postgresql+psycopg://alice:S3cret%Pw@127.0.0.1:1/db", "postgresql+psycopg://alice:S3cretPw@127.0.0.1:1/db",
           "postgresql+psycopg://alice:S3cret%25Pw@127.0.0.1:1/db?connect_timeout=x",
           "postgresql+psycopg://alice:S3cretPw@127.0.0.1:99999/db"]


@pytest.mark.parametrize("url", PG_URLS)
def test_cli_errors_never_print_the_database_password(url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFECTLAB_")}
    env.update(AFFECTLAB_DB_URL=url, AFFECTLAB_DATA_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "core", "stats", "--dataset", "x"], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    both = out.stdout + out.stderr
    leaked = "S3cret" in both
    REPORT.record("secrets: CLI errors", clear_error=out.returncode != 0 and not leaked, crash=leaked,
                  traceback="Traceback" in out.stderr)
    assert out.returncode != 0 and not leaked, both[-2000:]


def _cli(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFECTLAB_")}
    env.update(AFFECTLAB_DB_URL=f"sqlite:///{tmp_path / 'cli.db'}", AFFECTLAB_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, errors="surrogateescape")


@pytest.mark.parametrize("attack", ATTACKS[:-1])
def test_cli_echoes_hostile_names_escaped(attack, tmp_path):
    """A dataset name, a missing path and an import folder with hostile file names, on a terminal."""
    root = tmp_path / "in"
    write_image(root / "Happy" / "ok.png", 1)
    (root / "Happy" / f"x{attack}.png").write_bytes(b"not an image")
    runs = [_cli(["stats", "--dataset", f"d{attack}"], tmp_path),
            _cli(["import", "csv", str(tmp_path / f"gone{attack}.csv"), "--dataset", "d"], tmp_path),
            _cli(["import", "folder", str(root), "--dataset", "d"], tmp_path),
            _cli(["import", "folder", str(root), "--dataset", "d", "--json"], tmp_path)]
    bad = [(r.args[3:], raw_controls(r.stdout + r.stderr, newlines_ok=True)) for r in runs
           if raw_controls(r.stdout + r.stderr, newlines_ok=True) or r.returncode != 1]
    for r in runs:
        REPORT.record("terminal escapes: CLI runs", clear_error=r.returncode == 1 and not raw_controls(
            r.stdout + r.stderr, newlines_ok=True), traceback="Traceback" in r.stderr)
    assert not bad, bad
    fake_line = [r for r in runs[:3] if any(line.startswith(("import ok", "imported 100")) for line in
                                            r.stderr.splitlines())]
    assert not fake_line
