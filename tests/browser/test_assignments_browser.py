"""Real browser: a blind labelling task with k = 3. Two annotators label through the API; the third
(ana) labels through Relabel's "my assignments" queue in Chromium; the consensus is the majority.

`streamlit run app.py` on a loopback port (8741-8749), headless Debian Chromium via Playwright.
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
PORTS = range(8741, 8750)
VOTES = {"bob": ["Fear", "Sad"], "cy": ["Fear", "Happy"]}  # samples 1 and 2; ana says Fear, then Sad


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    seed = ("from pathlib import Path\nfrom core.ingest import import_path\n"
            "from core.store.db import write_session\n"
            "from core.store.tasks import create_task, get_task, submit_task_label\n"
            "from tests.helpers import write_affectnet_csv\n"
            f"import_path('csv', write_affectnet_csv(Path({str(tmp_path / 'in')!r}), 2), dataset='demo')\n"
            "with write_session() as s, s.begin():\n"
            "    create_task(s, 'demo', 'triple', k=3, annotators=['ana', 'bob', 'cy'], blind=True)\n"
            "    t = get_task(s, 'demo', 'triple')\n"
            f"    for who, votes in {VOTES!r}.items():\n"
            "        for sid, emotion in enumerate(votes, 1):\n"
            "            submit_task_label(s, t, sid, annotator=who, emotion=emotion)\n")
    with streamlit_app(tmp_path, seed=seed, ports=PORTS) as app:
        yield app


def _stored(env: dict) -> dict:
    code = ("import json\nfrom core.store.db import read_session\nfrom core.store.models import Sample\n"
            "from core.store.labels import label_history\nwith read_session() as s:\n"
            "    print(json.dumps({i: [s.get(Sample, i).cur_emotion, (s.get(Sample, i).cur_sources or {}).get('emotion'),"
            " sorted(h.annotator or '' for h in label_history(s, i) if h.source == 'human')] for i in (1, 2)}))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          check=True)
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def _click_one(locator, what: str, server: dict) -> None:
    """Click once exactly one element matches: mid-rerun Streamlit can show a stale copy beside the new one."""
    wait_for(lambda: locator.count() == 1, 20, f"one {what} button", log=server["log"])
    locator.click()


def test_the_third_annotator_labels_blind_in_the_browser(server):
    with chromium_page(server["tmp"], height=1400) as page:
        page.goto(f"{server['url']}/relabel?annotator=ana", wait_until="domcontentloaded")
        page.get_by_text("my assignments", exact=True).click()
        wait_for(lambda: page.get_by_text("sample #1").count(), 30, "ana's first assignment", log=server["log"])
        assert page.get_by_text("Blind task: other people's labels and the model's prediction are hidden.").count()
        assert not page.get_by_text("model says").count()
        for sid, emotion in ((1, "Fear"), (2, "Sad")):
            wait_for(lambda sid=sid: page.get_by_text(f"sample #{sid}", exact=True).count(), 30,
                     f"sample #{sid} in the editor", log=server["log"])
            _click_one(page.locator('[data-testid="stButton"] button', has_text=emotion), emotion, server)
            wait_for(lambda e=emotion: page.locator('[data-testid="stBaseButton-primary"]', has_text=e).count(), 20,
                     f"{emotion} chosen", log=server["log"])
            _click_one(page.get_by_role("button", name="Save & next"), "Save & next", server)
            wait_for(lambda sid=sid: page.get_by_text(f"Saved sample #{sid}").count(), 30, f"the save of #{sid}",
                     log=server["log"])
        wait_for(lambda: page.get_by_text("Nothing left for you in this task").count(), 30, "the end of the queue",
                 log=server["log"])
    stored = _stored(server["env"])
    assert stored[1][0] == "Fear" and stored[1][1].startswith("consensus:3")  # 3 x Fear
    assert stored[2][0] == "Sad" and stored[2][1].startswith("consensus:3")  # Sad, Sad, Happy
    assert stored[1][2] == stored[2][2] == ["ana", "bob", "cy"]
