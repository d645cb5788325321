"""Shared by real-browser tests: a seeded `streamlit run app.py` on a loopback port, and a page of
headless Debian Chromium (Playwright, never `playwright install`)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT
from tests.live.common import ASSETS
from tests.live.test_live_browser import CHROMIUM, require_browser_tools, wait_for


def free_port(ports: Iterable[int]) -> int:
    ports = list(ports)
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"ports {ports} are busy")


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
    port, log = free_port(ports), tmp / "server.log"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address=127.0.0.1",
           f"--server.port={port}", "--server.headless=true", "--browser.gatherUsageStats=false",
           "--server.fileWatcherType=none"]
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
        yield {"url": url, "env": env, "log": log, "tmp": tmp}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


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
