"""Shared by real-browser tests: a seeded `streamlit run app.py` on a loopback port, and a page of
headless Debian Chromium (Playwright, never `playwright install`)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.config import REPO_ROOT
from tests.live.common import ASSETS, cached_asset

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = ("apt-get update && apt-get install -y chromium ffmpeg; "
           ".venv/bin/pip install -r requirements-dev.txt (playwright==1.65.2)")


class BrowserTestNotRun(pytest.PytestWarning):
    """A real-browser test was skipped for missing tools (outside CI)."""


def require_browser_tools() -> None:
    """Fail loudly in CI, skip loudly elsewhere, when Chromium, ffmpeg or playwright is missing."""
    missing = [str(CHROMIUM)] if not CHROMIUM.exists() else []
    missing += [] if shutil.which("ffmpeg") else ["ffmpeg"]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    if not missing:
        return
    message = f"BROWSER TEST NOT RUN: missing {', '.join(missing)}. Install with: {INSTALL}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    warnings.warn(message, BrowserTestNotRun, stacklevel=1)  # listed in pytest's warnings summary
    pytest.skip(message)


def wait_for(check: Callable[[], object], timeout: float, what: str, *, log: Path | None = None) -> object:
    """check()'s first truthy value, polled every 0.2 s; AssertionError (with the log's tail) after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    tail = "\n--- server log (tail) ---\n" + log.read_text()[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{tail}")


def free_port(ports: Iterable[int] = (0,)) -> int:
    """The first of `ports` free on loopback (0: any free port)."""
    ports = list(ports)
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"ports {ports} are busy")


@contextmanager
def streamlit_server(env: dict[str, str], port: int, log: Path, *args: str) -> Iterator[str]:
    """`streamlit run app.py` (headless, loopback, extra `args`) with `env`, output to `log`;
    yields its URL once /_stcore/health answers, terminates it afterwards."""
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address=127.0.0.1",
           f"--server.port={port}", "--server.headless=true", "--browser.gatherUsageStats=false",
           "--server.fileWatcherType=none", *args]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, 30, "the streamlit server", log=log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def streamlit_app(tmp: Path, *, seed: str, ports: Iterable[int],
                  extra_env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Run `seed` (Python, in the repo, on a fresh store under tmp), then the app (with
    `extra_env`, e.g. AFFECTLAB_AUTH=on); yields url, env, log, tmp. Skips (or fails in CI)
    without Chromium/playwright."""
    require_browser_tools()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFECTLAB_")}
    env.update(AFFECTLAB_DATA_DIR=str(tmp / "data"), AFFECTLAB_DB_URL=f"sqlite:///{tmp / 'a.db'}",
               AFFECTLAB_ASSETS_DIR=str(ASSETS), HOME=str(tmp / "home"), PYTHONUNBUFFERED="1",
               **(extra_env or {}))
    subprocess.run([sys.executable, "-c", seed], cwd=REPO_ROOT, env=env, check=True)
    log = tmp / "server.log"
    with streamlit_server(env, free_port(ports), log) as url:
        yield {"url": url, "env": env, "log": log, "tmp": tmp}


@contextmanager
def chromium_page(tmp: Path, *, width: int = 1400, height: int = 1200) -> Iterator[Any]:
    """A Playwright page in headless Chromium with HOME under tmp; a screenshot page.png at the end."""
    from playwright.sync_api import sync_playwright

    home = tmp / "home"
    home.mkdir(exist_ok=True)
    browser_env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                   "XDG_CACHE_HOME": str(home / ".cache")}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), env=browser_env,
                                     args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            yield page
        finally:
            page.screenshot(path=str(tmp / "page.png"))
            browser.close()


def fake_camera_y4m(tmp: Path) -> Path:
    """single_face.mp4 as a y4m for Chromium's fake camera (letterboxed to 640x480, so the face
    keeps its shape)."""
    y4m = tmp / "face.y4m"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(cached_asset("single_face.mp4")),
                    "-vf", "scale=640:360,pad=640:480:0:60", "-pix_fmt", "yuv420p", str(y4m)], check=True)
    return y4m


def fake_camera_args(y4m: Path) -> list[str]:
    """Headless Chromium switches for a fake camera playing `y4m`, allowed without a prompt."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}",
            "--autoplay-policy=no-user-gesture-required"]
