"""Access control in a real Chromium (issue 16, item 9): on a hosted instance (AFFECTLAB_AUTH=on)
a visitor sees the sign-in form and cannot save; after signing in as an annotator, a relabel is
saved under the account's name."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from core.config import REPO_ROOT
from tests.browser.test_hostile_names import APP_PORT, browser, settle
from tests.conftest import ASSETS
from tests.live.test_live_browser import require_browser_tools, wait_for

pytestmark = pytest.mark.browser
SEED = """
from core.auth import LOCAL_OPERATOR
from core.ingest import import_path
from core.store.db import write_session
from core.store.users import add_user
from tests.helpers import write_affectnet_csv
import pathlib, sys
import_path("csv", write_affectnet_csv(pathlib.Path(sys.argv[1]), 6), dataset="demo")
with write_session() as s, s.begin():
    add_user(s, "ana", "annotator", "ana's long password", identity=LOCAL_OPERATOR)
"""


@pytest.fixture(autouse=True)
def _browser_tools() -> None:
    require_browser_tools()


def test_visitor_signs_in_and_relabels(tmp_path):
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFFECTLAB_", "STREAMLIT_"))}
    db = tmp_path / "auth.db"
    env.update(AFFECTLAB_DATA_DIR=str(tmp_path / "data"), AFFECTLAB_DB_URL=f"sqlite:///{db}", AFFECTLAB_AUTH="on",
               AFFECTLAB_ASSETS_DIR=str(ASSETS), HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "-c", SEED, str(tmp_path / "in")], cwd=REPO_ROOT, env=env, check=True)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", f"--server.port={APP_PORT}"],
                                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{APP_PORT}"

    def healthy() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, 60, "the streamlit server", log=log)
        with sync_playwright() as pw:
            context = browser(pw, tmp_path)
            page = context.new_page()
            try:
                page.goto(url, wait_until="domcontentloaded")
                nav = page.locator('[data-testid="stSidebarNav"]')
                nav.wait_for(timeout=60_000)
                nav.get_by_role("link", name="Relabel", exact=True).click()
                settle(page)
                page.locator("section[data-testid=stSidebar]").get_by_text("in order", exact=True).click()
                settle(page)
                assert page.get_by_role("button", name="Save & next").is_disabled()  # nobody signed in
                page.get_by_label("User").fill("ana")
                page.get_by_label("Password or token").fill("ana's long password")
                page.get_by_role("button", name="Sign in").click()
                settle(page)
                assert "Signed in as ana (annotator)" in page.locator("section[data-testid=stSidebar]").inner_text()
                page.locator('[data-testid="stMain"]').get_by_role("button", name=re.compile(r"^Sad\b")).click()
                settle(page)
                page.get_by_role("button", name="Save & next").click()
                settle(page)
                page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)
            except BaseException:
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                print(f"\nfailure screenshot: {tmp_path / 'failure.png'}; server log {log}")
                raise
            finally:
                context.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    time.sleep(0.2)
    with create_engine(f"sqlite:///{db}").connect() as c:
        rows = c.execute(text("SELECT a.name FROM annotations n JOIN annotators a ON a.id = n.annotator_id "
                              "WHERE n.source = 'human'")).all()
    assert rows == [("ana",)], rows
