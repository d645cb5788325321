"""Real browser: Browse shows clip tiles badged as clips; a clip's detail has a <video> of its
segment that Chromium loads and plays (with its audio decoded), and a frame strip of N images
with the masked slots marked; a silent clip says "no audio track"; an AVI clip plays as a cut.

`streamlit run app.py` on a loopback port (8761-8765), headless Debian Chromium via Playwright.
The opened clip's screenshot is saved as /tmp/clip_browse.png (the last view as page.png in tmp_path).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.server import chromium_page, streamlit_app, wait_for
from tests.clips.clipstore import FRAMES, MASKED

pytestmark = pytest.mark.browser
PORTS = range(8761, 8766)
SHOT = "/tmp/clip_browse.png"
# the dialog's <video> and its frame strip: the one image element holding several images
PROBE = """() => {
  const d = document.querySelector('[role="dialog"]');
  const v = d && d.querySelector('video');
  if (!v) return null;
  const lists = [...d.querySelectorAll('[data-testid="stImage"]')]  // one per st.image call
    .map(l => [...l.querySelectorAll('[data-testid="stImageContainer"]')]).filter(l => l.length > 1);
  const strip = lists.length === 1 ? lists[0] : [];
  return {src: v.src, ready: v.readyState, duration: v.duration, time: v.currentTime,
          audioBytes: v.webkitAudioDecodedByteCount, images: strip.filter(i => i.querySelector('img')).length,
          captions: strip.map(i => (i.querySelector('[data-testid="stImageCaption"]') || {}).innerText || '')};
}"""


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    # the dataset is named "demo" so the app does not build its demo dataset on the first visit
    seed = ("from pathlib import Path\nfrom tests.clips.clipstore import seed_clip_store\n"
            f"seed_clip_store(Path({str(tmp_path)!r}), dataset='demo')\n")
    with streamlit_app(tmp_path, seed=seed, ports=PORTS) as app:
        yield app


def _probe(page, check) -> dict | None:
    got = page.evaluate(PROBE)
    return got if got and check(got) else None


def test_a_clip_opens_with_its_player_and_frame_strip(server):
    log = server["log"]
    with chromium_page(server["tmp"], height=1300) as page:
        page.goto(f"{server['url']}/browse", wait_until="domcontentloaded")
        wait_for(lambda: page.get_by_text("clip · 8 frames · 2.0 s").count(), 60, "the clip badges", log=log)
        assert page.get_by_text("clip · 8 frames · 1.0 s").count() == 1
        page.get_by_role("button", name="open", exact=True).first.click()
        got = wait_for(lambda: _probe(page, lambda g: g["ready"] >= 1 and g["images"] == FRAMES), 60,
                       "the clip's video and strip", log=log)
        assert got["src"].startswith(server["url"] + "/media/") and got["duration"] == pytest.approx(2.0, abs=0.1)
        assert [i for i, c in enumerate(got["captions"]) if "no face" in c] == MASKED
        assert got["captions"][0] == "0.12 s"
        page.evaluate("""() => { const v = document.querySelector('[role="dialog"] video');
                                 v.muted = true; v.play(); }""")
        played = wait_for(lambda: _probe(page, lambda g: g["time"] > 0.5), 30, "the video to play", log=log)
        assert played["audioBytes"] > 0  # the tone track is decoded with the video
        page.evaluate("() => document.querySelector('[role=\"dialog\"] video').pause()")
        page.wait_for_timeout(300)
        page.screenshot(path=SHOT)

        dialog = page.get_by_test_id("stDialog")
        dialog.get_by_role("button", name="Next ▶").click()  # the silent 0.5-1.5 s segment
        wait_for(lambda: page.get_by_text("no audio track").count(), 30, "'no audio track'", log=log)
        silent = wait_for(lambda: _probe(page, lambda g: g["ready"] >= 2 and g["src"] != got["src"]), 30,
                          "the silent clip's video", log=log)
        assert silent["audioBytes"] == 0 and not [c for c in silent["captions"] if "no face" in c]
        dialog.get_by_role("button", name="Next ▶").click()  # the AVI: cut to an mp4 the browser plays
        cut = wait_for(lambda: _probe(page, lambda g: g["ready"] >= 1 and g["duration"] < 1.5), 60,
                       "the cut of the AVI clip", log=log)
        assert cut["duration"] == pytest.approx(1.0, abs=0.15) and cut["images"] == FRAMES
