"""Real browser: Relabel on a multi-label (EMOTIC-26) dataset: a chip toggled by a click and one by
its keyboard key, Save & next stores exactly that set under the annotator's name.

`streamlit run app.py` on a loopback port (8701-8709), headless Debian Chromium via Playwright.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from core.config import REPO_ROOT
from tests.browser.server import chromium_page, streamlit_app, wait_for

pytestmark = pytest.mark.browser
PORTS = range(8701, 8710)


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    seed = ("from pathlib import Path\nfrom tests.pages.modes_seed import seed_modes\n"
            f"seed_modes(Path({str(tmp_path)!r}), names={{'emotic': 'demo'}})\n")  # 'demo': no demo build
    with streamlit_app(tmp_path, seed=seed, ports=PORTS) as app:
        yield app


def _stored(env: dict, sample_id: int) -> tuple[list[str], str]:
    code = ("import json\nfrom core.store.db import read_session\nfrom core.store.labels import label_history\n"
            "from core.store.models import Sample\nwith read_session() as s:\n"
            f"    print(json.dumps([s.get(Sample, {sample_id}).cur_emotions, label_history(s, {sample_id})[0].annotator]))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          check=True)
    emotions, who = json.loads(done.stdout.strip().splitlines()[-1])
    return emotions, who


def test_chips_toggle_by_click_and_key_and_save(server):
    with chromium_page(server["tmp"], height=1400) as page:
        page.goto(f"{server['url']}/relabel?annotator=ana", wait_until="domcontentloaded")
        page.get_by_text("in order", exact=True).click()
        wait_for(lambda: page.get_by_text("in order · 1 of 8").count(), 30, "the first sample", log=server["log"])
        wait_for(lambda: page.get_by_text("chosen: Affection, Anger, Fear").count(), 20, "the imported set")
        page.locator('[data-testid="stButton"] button', has_text="Happiness").first.click()
        wait_for(lambda: page.get_by_text("chosen: Affection, Anger, Fear, Happiness").count(), 20,
                 "the clicked chip to turn on", log=server["log"])
        page.evaluate("document.activeElement && document.activeElement.blur()")  # keys go to the shortcuts
        page.keyboard.press("1")  # chip 1 = Affection: off
        wait_for(lambda: page.get_by_text("chosen: Anger, Fear, Happiness").count(), 20,
                 "key 1 to turn Affection off", log=server["log"])
        page.get_by_role("button", name="Save & next").click()
        wait_for(lambda: page.get_by_text("Saved sample #1").count(), 30, "the save", log=server["log"])
    assert _stored(server["env"], 1) == (["Anger", "Fear", "Happiness"], "ana")
