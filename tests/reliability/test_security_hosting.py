"""Open by default (issue 16, item 7): the app binds loopback, XSRF protection stays on (also in
the Docker image and on Spaces), no developer toolbar and no error details for visitors."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from core.config import REPO_ROOT

CONFIG = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
PORT = 8618


def test_config_is_safe_for_visitors():
    server, client = CONFIG["server"], CONFIG["client"]
    assert server["address"] == "127.0.0.1"
    assert server["enableXsrfProtection"] is True and server.get("enableCORS", True) is True
    assert server["fileWatcherType"] == "none"
    assert client["toolbarMode"] == "minimal"  # hides Deploy / Rerun / Clear cache
    assert client["showErrorDetails"] == "none"


def test_docker_image_never_turns_xsrf_off():
    text = (REPO_ROOT / "Dockerfile").read_text() + (REPO_ROOT / "scripts" / "start.sh").read_text()
    lowered = text.lower().replace(" ", "")
    for off in ("enable_xsrf_protection=false", "enablexsrfprotection=false", "enablexsrfprotectionfalse"):
        assert off not in lowered


def _start_env(extra: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """What scripts/start.sh hands to its command (here `env`), with the data dir pinned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "SPACE_", "AFFECTLAB_AUTH"))}
    env.update(AFFECTLAB_DATA_DIR=str(tmp_path / "data"), AFFECTLAB_PERSIST_DIR=str(tmp_path / "none"), **extra)
    out = subprocess.run([str(REPO_ROOT / "scripts" / "start.sh"), "env"], env=env, capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.mark.parametrize("space", [None, "someone/affectlab"])
def test_start_script_keeps_xsrf_on_and_fits_the_spaces_iframe(space, tmp_path):
    got = _start_env({"SPACE_ID": space} if space else {}, tmp_path)
    assert got["STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION"] == "true"
    assert got.get("STREAMLIT_SERVER_XSRF_COOKIE_SAME_SITE") == ("none" if space else None)
    assert got.get("AFFECTLAB_AUTH") == ("on" if space else None)  # a public Space asks for sign-in


def test_start_script_respects_an_explicit_same_site(tmp_path):
    got = _start_env({"SPACE_ID": "a/b", "STREAMLIT_SERVER_XSRF_COOKIE_SAME_SITE": "strict"}, tmp_path)
    assert got["STREAMLIT_SERVER_XSRF_COOKIE_SAME_SITE"] == "strict"


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):
    """`streamlit run app.py` with nothing but the repo's config: no address flag."""
    tmp = tmp_path_factory.mktemp("bind")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "AFFECTLAB_"))}
    env.update(AFFECTLAB_DATA_DIR=str(tmp / "data"), AFFECTLAB_DB_URL=f"sqlite:///{tmp / 'a.db'}",
               HOME=str(tmp))
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", f"--server.port={PORT}"],
                                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/_stcore/health", timeout=1):
                break
        except OSError:
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("server did not start:\n" + log.read_text()[-3000:])
    yield proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_server_listens_on_loopback_only(plain_server):
    listening = {c.laddr for c in psutil.Process(plain_server.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    assert listening and {addr.ip for addr in listening} == {"127.0.0.1"}, listening


def test_cross_site_upload_without_the_xsrf_token_is_refused(plain_server):
    """What a hostile page can do from the visitor's browser: a PUT/POST with no X-Xsrftoken."""
    for method in ("PUT", "POST"):
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}/_stcore/upload_file/session/file",
                                     data=b"x" * 10, method=method,
                                     headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=5)
        assert info.value.code in (403, 405), (method, info.value.code)
    put = urllib.request.Request(f"http://127.0.0.1:{PORT}/_stcore/upload_file/session/file",
                                 data=b"x", method="PUT", headers={"Origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(put, timeout=5)
    assert info.value.code == 403
