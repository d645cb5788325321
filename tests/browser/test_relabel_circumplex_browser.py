"""Real browser: one click on the Relabel V/A circumplex sets V/A, every time (3 samples, 3 points),
and Save & next stores exactly those values; the click and save latencies are printed.

`streamlit run app.py` on a loopback port (8615-8625), headless Debian Chromium via Playwright.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from core.config import REPO_ROOT
from tests.browser.server import chromium_page, streamlit_app, wait_for

pytestmark = pytest.mark.browser
PORTS = range(8615, 8626)
TARGETS = [(0.5, 0.3), (-0.4, -0.6), (0.75, -0.25)]  # grid points (every 0.05)
# page pixel of data point (v, a) on the plotly graph div, from plotly.js's own axis mapping
TO_PIXEL = """([v, a]) => {
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  if (!gd || gd.dataset.clicked || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
  gd.dataset.clicked = "1";  // the next sample's plot is a new element: wait for it
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  return [box.left + L.xaxis._offset + L.xaxis.l2p(v), box.top + L.yaxis._offset + L.yaxis.l2p(a)];
}"""


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    seed = ("from pathlib import Path\nfrom core.ingest import import_path\n"
            "from tests.helpers import write_affectnet_csv\n"
            f"import_path('csv', write_affectnet_csv(Path({str(tmp_path / 'in')!r}), 6), dataset='demo')\n")
    with streamlit_app(tmp_path, seed=seed, ports=PORTS) as app:
        yield app


def _slider(page, label: str) -> float | None:
    """The slider's value; None while a rerun replaces it."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    sliders = page.locator(f'input[type="range"][aria-label="{label}"]')
    try:
        if sliders.count() != 1:  # mid-rerun Streamlit can show the stale and the new slider together
            return None
        return float(sliders.input_value(timeout=500))
    except (PlaywrightTimeout, PlaywrightError):
        return None


def _stored(env: dict, ids: list[int]) -> dict[int, tuple]:
    code = ("import json\nfrom core.store.db import read_session\nfrom core.store.labels import label_history\n"
            "from core.store.models import Sample\nout = {}\nwith read_session() as s:\n"
            f"    for i in {ids!r}:\n        x = s.get(Sample, i)\n"
            "        out[i] = [x.cur_valence, x.cur_arousal, label_history(s, i)[0].annotator]\n"
            "print(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return {int(k): tuple(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def test_one_click_on_the_circumplex_sets_va_on_three_samples(server):
    clicks, saves = [], []
    with chromium_page(server["tmp"], height=1300) as page:
        page.goto(f"{server['url']}/relabel?annotator=ana", wait_until="domcontentloaded")
        page.get_by_text("in order", exact=True).click()
        wait_for(lambda: page.get_by_text("in order · 1 of 6").count(), 30, "the first sample")
        for i, (v, a) in enumerate(TARGETS):
            x, y = wait_for(lambda v=v, a=a: page.evaluate(TO_PIXEL, [v, a]), 30,
                            f"the plot of sample {i + 1}", log=server["log"])
            page.wait_for_timeout(300)  # let plotly finish drawing it
            t0 = time.monotonic()
            page.mouse.click(x, y)  # ONE click: never repeated
            wait_for(lambda v=v, a=a: (_slider(page, "Valence"), _slider(page, "Arousal")) == (v, a),
                     20, f"one click at ({v}, {a}) to set the sliders on sample {i + 1}", log=server["log"])
            clicks.append(time.monotonic() - t0)
            t0 = time.monotonic()
            page.get_by_role("button", name="Save & next").click()
            wait_for(lambda i=i: page.get_by_text(f"in order · {i + 2} of 6").count(), 20,
                     f"sample {i + 2} after saving", log=server["log"])
            saves.append(time.monotonic() - t0)
    stored = _stored(server["env"], [1, 2, 3])
    assert stored == {i + 1: (v, a, "ana") for i, (v, a) in enumerate(TARGETS)}, stored
    print(f"click -> sliders set: {', '.join(f'{t:.2f}' for t in clicks)} s; "
          f"save & next -> next sample shown: {', '.join(f'{t:.2f}' for t in saves)} s")
