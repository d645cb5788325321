"""Real browser: one click on a Review confusion-matrix cell lists exactly that cell's samples
(plotly heatmaps emit no selection; the matrix is drawn as selectable square markers).

`streamlit run app.py` on a loopback port (8616 or 8626), headless Debian Chromium via Playwright.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest

from core.config import REPO_ROOT
from tests.live.common import ASSETS
from tests.live.test_live_browser import CHROMIUM, require_browser_tools, wait_for

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


def _port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"ports {PORTS} are busy")


@pytest.fixture
def server(tmp_path) -> Iterator[dict]:
    require_browser_tools()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFECTLAB_")}
    env.update(AFFECTLAB_DATA_DIR=str(tmp_path / "data"), AFFECTLAB_DB_URL=f"sqlite:///{tmp_path / 'a.db'}",
               AFFECTLAB_ASSETS_DIR=str(ASSETS), HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "-c", SEED.format(root=str(tmp_path / "in"))], cwd=REPO_ROOT,
                   env=env, check=True)
    port, log = _port(), tmp_path / "server.log"
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
        yield {"url": url, "log": log, "tmp": tmp_path}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_one_click_on_a_confusion_cell_lists_its_samples(server):
    from playwright.sync_api import sync_playwright

    home = server["tmp"] / "home"
    home.mkdir()
    browser_env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                   "XDG_CACHE_HOME": str(home / ".cache")}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), env=browser_env,
                                     args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        try:
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
        finally:
            page.screenshot(path=str(server["tmp"] / "review.png"))
            browser.close()
