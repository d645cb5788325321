"""Real browser: one click on a Review confusion-matrix cell lists exactly that cell's samples
(plotly heatmaps emit no selection; the matrix is drawn as selectable square markers).

`streamlit run app.py` on a loopback port (8616 or 8626), headless Debian Chromium via Playwright.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.server import chromium_page, streamlit_app, wait_for

pytestmark = pytest.mark.browser
PORTS = (8616, 8626)
SEED = """
from pathlib import Path
from core.ingest import import_path
from core.store.db import write_session
from core.store.models import Sample
from core.store.predictions import record_predictions
from tests.helpers import write_affectnet_csv
import_path('csv', write_affectnet_csv(Path({root!r}), 16), dataset='demo')
with write_session() as s, s.begin():  # right for odd ids, 'Happy' for even ids; no training run
    rows = []
    for sid in range(1, 17):
        true = s.get(Sample, sid).cur_emotion
        pred = true if sid % 2 else 'Happy'
        rows.append({{'sample_id': sid, 'model_version': 'fer-default', 'probs': {{pred: 0.9}},
                     'valence': 0.0, 'arousal': 0.0, 'stress': 0.5}})
    record_predictions(s, rows)
"""
# page pixel of the confusion cell (predicted x, true y), from plotly.js's own axis mapping
CELL_PIXEL = """([x, y]) => {
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  if (!gd || !gd._fullLayout || !gd._fullLayout.xaxis || !gd._fullLayout.xaxis._categories) return null;
  const L = gd._fullLayout, box = gd.getBoundingClientRect();
  return [box.left + L.xaxis._offset + L.xaxis.d2p(x), box.top + L.yaxis._offset + L.yaxis.d2p(y)];
}"""


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    with streamlit_app(tmp_path, seed=SEED.format(root=str(tmp_path / "in")), ports=PORTS) as app:
        yield app


def test_one_click_on_a_confusion_cell_lists_its_samples(server):
    with chromium_page(server["tmp"]) as page:
        page.goto(f"{server['url']}/review", wait_until="domcontentloaded")
        wait_for(lambda: page.get_by_role("tab", name="Confusion matrix").count(), 60, "the Review page",
                 log=server["log"])
        page.get_by_role("tab", name="Confusion matrix").click()
        x, y = wait_for(lambda: page.evaluate(CELL_PIXEL, ["Happy", "Surprise"]), 30, "the matrix",
                        log=server["log"])
        page.wait_for_timeout(500)  # let plotly finish drawing
        page.mouse.click(x, y)  # ONE click
        wait_for(lambda: page.get_by_text("showing true Surprise, predicted Happy").count(), 20,
                 "the click to filter the samples", log=server["log"])
        wait_for(lambda: page.get_by_role("button", name="open", exact=True).count() == 2, 20,
                 "the two samples of that cell", log=server["log"])
        captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
        assert sum("true Surprise → pred Happy" in c for c in captions) == 2, captions
