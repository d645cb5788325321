"""The Gradio webcam in a real browser: `python gradio_app.py`, headless Chromium whose fake camera
plays single_face.mp4, "Click to Access Webcam" then Record, frames streamed over HTTP through the
model, the annotated frame and the prior-flagged results on the page, Stop.

Needs Debian's chromium and ffmpeg and the playwright package (never `playwright install`); without
them it fails when CI=true and skips loudly otherwise (see /work/shared/E2E.md).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.config import REPO_ROOT
from tests.browser.server import CHROMIUM, fake_camera_args, fake_camera_y4m, require_browser_tools, wait_for
from tests.hosting.common import NET_GUARD, free_port, stop, wait_http

pytestmark = [pytest.mark.browser, pytest.mark.slow]
STATS = re.compile(r"frame (\d+) · (\d+\.\d) frames/s")
EMOTION = re.compile(r"Face 1: (Neutral|Happy|Sad|Surprise|Fear|Disgust|Anger|Contempt) \d{1,3}%")


@pytest.fixture(autouse=True)
def _browser_tools() -> None:
    require_browser_tools()


@pytest.fixture
def server(app_env, tmp_path) -> Iterator[dict]:
    """`python gradio_app.py` on a free loopback port; lookups and connections off loopback fail."""
    port, log = free_port(), tmp_path / "gradio.log"
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(NET_GUARD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "HF_"))}
    env.update(app_env, GRADIO_SERVER_PORT=str(port), PYTHONPATH=str(tmp_path / "guard"),
               NET_LOG=str(tmp_path / "net.log"), PIP_NO_INDEX="1", HOME=str(tmp_path / "home"))
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "gradio_app.py"], cwd=REPO_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc, timeout=180)
        yield {"url": f"http://127.0.0.1:{port}/", "log": log, "net": tmp_path / "net.log"}
    finally:
        stop(proc)


@pytest.fixture
def fake_camera(tmp_path) -> Path:
    return fake_camera_y4m(tmp_path)


def stats(page) -> tuple[int, float]:
    found = STATS.search(page.locator("#cam-text").inner_text())
    return (int(found[1]), float(found[2])) if found else (0, 0.0)


def test_webcam_streams_through_the_model(server, fake_camera, tmp_path):
    from playwright.sync_api import sync_playwright

    home = tmp_path / "browser-home"
    (home / "run").mkdir(parents=True)
    browser_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run"),
                   "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
    external: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=fake_camera_args(fake_camera), env=browser_env, permissions=["camera"],
            viewport={"width": 1400, "height": 1100})
        try:
            page = context.new_page()
            page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                    else external.append(r.url))
            page.goto(server["url"], wait_until="domcontentloaded")
            page.get_by_role("button", name="Click to Access Webcam").click(timeout=30_000)
            started = time.monotonic()
            page.get_by_role("button", name="capture photo").click(timeout=15_000)  # "Record"
            wait_for(lambda: stats(page)[0] >= 10, 45, ">= 10 streamed frames", log=server["log"])
            to_10 = time.monotonic() - started
            text = page.locator("#cam-text").inner_text()
            assert EMOTION.search(text) and "V/A (prior)" in text and "Stress (prior)" in text, text
            fps = stats(page)[1]
            shot = cv2.imdecode(np.frombuffer(page.locator("#cam-out img").screenshot(), np.uint8),
                                cv2.IMREAD_COLOR)
            accent = int(((shot[..., 2] > 170) & (shot[..., 1] < 100) & (shot[..., 0] > 170)).sum())
            assert accent > 200, accent  # the Live page's box / label / V/A point on the frame
            page.screenshot(path=str(tmp_path / "gradio.png"), full_page=True)
            page.get_by_role("button", name="capture photo").click()  # "Stop"
            time.sleep(1.5)  # frames already in flight finish
            stopped_at = stats(page)[0]
            time.sleep(2.0)
            assert stats(page)[0] == stopped_at, "frames still streamed after Stop"
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"\nfailure screenshot: {tmp_path / 'failure.png'}\nserver log: {server['log']}")
            raise
        finally:
            context.close()
    assert not server["net"].exists(), server["net"].read_text()
    assert not external, f"the page fetched from outside the machine: {external[:5]}"
    print(f"\ngradio browser test: 10 frames {to_10:.1f} s after Record, {fps:.1f} frames/s shown, "
          f"{stopped_at} frames in all, accent pixels {accent}; screenshot {tmp_path / 'gradio.png'}")
