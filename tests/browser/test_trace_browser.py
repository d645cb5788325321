"""Real browser: on the Traces page two annotators play a real face video (single_face.mp4 from the
assets, looped to ~7 s, WebM) and trace V/A for ~2 s each, one with the mouse on the pad, one with
the arrow keys; each Save stores a trace whose times follow the video and whose values change, and
the page then shows the agreement of the two.

`streamlit run app.py` on a loopback port (8731-8739), headless Debian Chromium via Playwright.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from core.config import REPO_ROOT
from tests.browser.server import chromium_page, streamlit_app, wait_for
from tests.live.common import cached_asset

pytestmark = pytest.mark.browser
PORTS = range(8731, 8740)
IFRAME = 'iframe[title*="va_trace"]'


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    folder = tmp_path / "in"
    folder.mkdir()
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-stream_loop", "2", "-i",
                    str(cached_asset("single_face.mp4")), "-an", "-vf", "scale=320:180", "-c:v", "libvpx",
                    "-b:v", "800k", str(folder / "face.webm")], check=True)
    seed = ("from core.ingest import import_path\n"
            f"r = import_path('video', {str(folder)!r}, dataset='demo')\n"
            "assert r.added and not r.errors, r\n")
    with streamlit_app(tmp_path, seed=seed, ports=PORTS) as app:
        yield app


def _stored(env: dict) -> list[dict]:
    code = ("import json\nfrom sqlalchemy import select\nfrom core.store.db import read_session\n"
            "from core.store.models import Media\nfrom core.store.models_traces import VATrace\n"
            "with read_session() as s:\n"
            "    m = s.scalars(select(Media)).one()\n"
            "    rows = [{'id': t.id, 'media': t.media_id, 'samples': t.samples, 'dur': m.frames / m.fps}\n"
            "            for t in s.scalars(select(VATrace).order_by(VATrace.id))]\n"
            "print(json.dumps(rows))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _samples(frame) -> int:
    return int(frame.locator("#status").get_attribute("data-samples") or 0)


def _record(page, server, who: str, move, *, rerecord: bool = False) -> None:
    """Open the page as `who`, play from 0, run `move(page, frame, pad_box)` while it plays, pause;
    `rerecord`: seek back to 0.5 s and play ~0.7 s again with the pad in the top-right corner; Save."""
    page.goto(f"{server['url']}/trace?annotator={who}", wait_until="domcontentloaded")
    wait_for(lambda: page.locator(IFRAME).count(), 40, "the recorder", log=server["log"])
    frame = page.frame_locator(IFRAME)
    wait_for(lambda: frame.locator("video").evaluate("v => v.readyState >= 2 && v.duration > 5"), 30,
             "the video to load in the recorder", log=server["log"])
    assert not frame.locator("#error").inner_text()
    frame.locator("#play").click()
    box = frame.locator("#pad").bounding_box()
    move(page, frame, box)
    frame.locator("#pause").click()
    t_end = frame.locator("video").evaluate("v => v.currentTime")
    assert 1.5 < t_end < 6.5, t_end  # it played about as long as we traced (longer on a busy machine)
    assert _samples(frame) >= 12, _samples(frame)  # ~10 Hz for ~2 s
    if rerecord:
        before = _samples(frame)
        frame.locator("video").evaluate("v => { v.currentTime = 0.5; }")
        wait_for(lambda: not frame.locator("video").evaluate("v => v.seeking"), 10, "the seek")
        page.mouse.move(box["x"] + box["width"] * 0.98, box["y"] + box["height"] * 0.02)
        frame.locator("#play").click()
        page.wait_for_timeout(700)
        frame.locator("#pause").click()
        assert abs(_samples(frame) - before) <= 2  # the segment replaced samples, it did not add a copy
    frame.locator("#save").click()
    wait_for(lambda: page.get_by_text("Saved trace #").count(), 20, f"{who}'s trace to be saved",
             log=server["log"])


def _mouse(page, frame, box) -> None:
    for i in range(22):  # a diagonal sweep, ~2.2 s
        x = box["x"] + box["width"] * (0.1 + 0.8 * i / 21)
        y = box["y"] + box["height"] * (0.9 - 0.8 * i / 21)
        page.mouse.move(x, y)
        page.wait_for_timeout(100)


def _keys(page, frame, box) -> None:
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.8)  # focus; low-left
    for i in range(22):
        page.keyboard.press("ArrowRight" if i % 2 else "ArrowUp")
        page.wait_for_timeout(100)


def test_two_traces_recorded_in_the_browser_are_stored_plotted_and_compared(server):
    with chromium_page(server["tmp"], height=1600) as page:
        _record(page, server, "ana", _mouse, rerecord=True)
        first = _stored(server["env"])
        assert len(first) == 1
        _record(page, server, "bob", _keys)
        page.get_by_text("Agreement", exact=True).first.wait_for(timeout=20000)
        wait_for(lambda: page.get_by_text("valence CCC").count(), 20, "the agreement numbers", log=server["log"])
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=20000)
    traces = _stored(server["env"])
    assert len(traces) == 2
    for tr in traces:
        t, v, a = tr["samples"]["t"], tr["samples"]["valence"], tr["samples"]["arousal"]
        assert len(t) >= 12 and t == sorted(t) and 0 <= t[0] < 1.0 and t[-1] <= tr["dur"] + 0.1
        steps = [b - x for x, b in zip(t, t[1:])]
        assert 0.05 < sorted(steps)[len(steps) // 2] < 0.2, steps  # ~10 Hz on the media clock
        assert len({round(x, 2) for x in v}) >= 5 and len({round(x, 2) for x in a}) >= 5, (v, a)
    mouse, keys = traces[0]["samples"], traces[1]["samples"]
    assert mouse["valence"][-1] > mouse["valence"][0] and mouse["arousal"][-1] > mouse["arousal"][0]
    # the re-recorded segment (from 0.5 s for ~0.7 s) holds the corner; before and after it, the sweep
    seg = [(t, v, a) for t, v, a in zip(mouse["t"], mouse["valence"], mouse["arousal"]) if 0.55 <= t <= 1.0]
    assert seg and all(v > 0.85 and a > 0.85 for _, v, a in seg), seg
    assert all(v <= 0 for t, v in zip(mouse["t"], mouse["valence"]) if t < 0.45)  # 0: before the first move
    assert any(v < 0.85 for t, v in zip(mouse["t"], mouse["valence"]) if t > 1.6)
    for dim in ("valence", "arousal"):  # the click put the pad low-left, the arrows moved it up-right
        assert keys[dim][-1] > min(keys[dim]) + 0.3, keys[dim]
