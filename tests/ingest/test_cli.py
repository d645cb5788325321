"""`python -m core` import / stats / split / export as subprocesses: exit codes, JSON on stdout, errors on stderr."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.config import REPO_ROOT
from tests.helpers import write_affectnet_csv
from tests.ingest.common import counts, samples, write_csv


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)  # carries AFFECTLAB_DATA_DIR / _DB_URL / _ASSETS_DIR from the `env` fixture
    assert env["AFFECTLAB_DB_URL"].startswith("sqlite:///") and "AFFECTLAB_DATA_DIR" in env
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def one_json(stdout: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, stdout
    return json.loads(lines[0])


@pytest.fixture
def imported(env):
    """A 24-row dataset 'cli' imported through the CLI."""
    path = write_affectnet_csv(env / "in", n=24, subjects=8)
    proc = cli("import", "csv", str(path), "--dataset", "cli", "--json")
    assert proc.returncode == 0, proc.stderr
    return one_json(proc.stdout)


def test_import_json_report(env, read, imported):
    out = imported
    assert out["ok"] is True and out["dataset"] == "cli" and out["kind"] == "csv"
    assert (out["rows"], out["added"], out["existing"], out["invalid"], out["errors"]) == (24, 24, 0, 0, [])
    assert counts(read) == (24, 24) and len(samples(read, "cli")) == 24
    again = cli("import", "csv", str(env / "in" / "labels.csv"), "--dataset", "cli", "--json")
    assert again.returncode == 0 and (one_json(again.stdout)["added"], one_json(again.stdout)["existing"]) == (0, 24)


def test_bad_csv_exits_nonzero_with_errors(env, read):
    path = write_csv(env / "in", ["imgs/0.png,Happy,0.1,0.2", "imgs/1.png,bored,0.1,0.2",
                                  "imgs/9.png,Sad,0.1,7"], images=2)
    proc = cli("import", "csv", str(path), "--dataset", "bad", "--json")
    assert proc.returncode == 1
    assert "error: 2 invalid row(s) (3 error(s))" in proc.stderr and "labels.csv:3: emotion" in proc.stderr
    assert "labels.csv:4: image_path" in proc.stderr and "labels.csv:4: arousal" in proc.stderr
    assert "Traceback" not in proc.stderr
    out = one_json(proc.stdout)
    assert out["ok"] is False and out["invalid"] == 2 and len(out["errors"]) == 3 and out["added"] == 0
    assert {(e["line"], e["field"]) for e in out["errors"]} == {(3, "emotion"), (4, "arousal"), (4, "image_path")}
    assert counts(read) == (0, 0)
    plain = cli("import", "csv", str(path), "--dataset", "bad")  # without --json: nothing on stdout
    assert plain.returncode == 1 and plain.stdout == "" and "nothing was imported" in plain.stderr
    skip = cli("import", "csv", str(path), "--dataset", "bad", "--skip-invalid", "--json")
    assert skip.returncode == 0 and one_json(skip.stdout)["added"] == 1
    assert skip.stderr.count("skipped: ") == 3
    assert [x.cur_emotion for x in samples(read, "bad").values()] == ["Happy"]


def test_va_scale_and_no_derive_options(env, read):
    path = write_csv(env / "in", ["imgs/0.png,Happy,5,9"], images=1)
    proc = cli("import", "csv", str(path), "--dataset", "d", "--va-scale", "1..9", "--no-derive", "--json")
    assert proc.returncode == 0, proc.stderr
    smp = samples(read, "d")["imgs/0.png"]
    assert (smp.cur_valence, smp.cur_arousal, smp.cur_stress) == (0.0, 1.0, None)


def test_stats_json_and_table(env, imported):
    proc = cli("stats", "--dataset", "cli", "--json")
    assert proc.returncode == 0, proc.stderr
    st = one_json(proc.stdout)
    assert st["ok"] is True and st["dataset"] == "cli"
    assert (st["samples"], st["labelled"], st["flagged"]) == (24, 24, 0)
    assert st["by_emotion"] == {name: 3 for name in ["Neutral", "Happy", "Sad", "Surprise", "Fear",
                                                     "Disgust", "Anger", "Contempt"]}
    assert st["by_split"] == {"none": 24} and st["by_source"] == {"imported": 24}
    table = cli("stats", "--dataset", "cli")
    assert table.returncode == 0 and "dataset cli: 24 samples, 24 labelled" in table.stdout
    assert "Contempt" in table.stdout


def test_split_json(env, read, imported):
    proc = cli("split", "--dataset", "cli", "--preset", "70/15/15", "--json")
    assert proc.returncode == 0, proc.stderr
    out = one_json(proc.stdout)
    assert out["ok"] is True and out["preset"] == "70/15/15" and out["seed"] == 0
    assert set(out["splits"]) == {"train", "val", "test"}
    assert sum(sum(row.values()) for row in out["splits"].values()) == 24
    by_subject: dict[str, set] = {}
    for smp in samples(read, "cli").values():
        by_subject.setdefault(smp.subject, set()).add(smp.split)
    assert all(len(v) == 1 for v in by_subject.values())  # every subject in exactly one split
    st = one_json(cli("stats", "--dataset", "cli", "--json").stdout)
    assert {k: v for k, v in st["by_split"].items()} == {k: sum(r.values()) for k, r in out["splits"].items()}


def test_export_via_cli(env, imported):
    proc = cli("export", "--dataset", "cli", "--to", str(env / "exp" / "out.csv"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = one_json(proc.stdout)
    assert out["rows"] == 24 and (env / "exp" / "out.csv").is_file()
    assert len(list((env / "exp" / "out_crops").iterdir())) == 24


@pytest.mark.parametrize("verb", [["stats"], ["split", "--preset", "70/30"],
                                  ["export", "--to", "x.csv"]])
def test_unknown_dataset_is_a_clear_error(env, verb):
    proc = cli(verb[0], "--dataset", "nope", *verb[1:], "--json")
    assert proc.returncode == 1
    assert "error: no dataset named 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    out = one_json(proc.stdout)
    assert out["ok"] is False and "no dataset named 'nope'" in out["error"]


def test_missing_path_and_bad_kind(env):
    proc = cli("import", "csv", str(env / "missing.csv"), "--dataset", "d", "--json")
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    assert one_json(proc.stdout)["ok"] is False
    bad = cli("import", "xml", str(env), "--dataset", "d")
    assert bad.returncode == 2 and "'xml' is not one of 'folder', 'csv'" in bad.stderr
