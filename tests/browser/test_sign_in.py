"""Access control in a real Chromium (issue 16, item 9): on a hosted instance (AFFECTLAB_AUTH=on)
a visitor sees the sign-in form and cannot save; after signing in as an annotator, a relabel is
saved under the account's name."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from tests.browser.server import chromium_page, require_browser_tools, streamlit_app
from tests.browser.test_hostile_names import APP_PORT, PLANTED_PORT, settle

pytestmark = pytest.mark.browser
SEED = """
from core.auth import LOCAL_OPERATOR
from core.ingest import import_path
from core.store.db import write_session
from core.store.users import add_user
from tests.helpers import write_affectnet_csv
import tempfile, pathlib
import_path("csv", write_affectnet_csv(pathlib.Path(tempfile.mkdtemp()), 6), dataset="demo")
with write_session() as s, s.begin():
    add_user(s, "ana", "annotator", "ana's long password", identity=LOCAL_OPERATOR)
"""


@pytest.fixture(autouse=True)
def _browser_tools() -> None:
    require_browser_tools()


def test_visitor_signs_in_and_relabels(tmp_path):
    with streamlit_app(tmp_path, seed=SEED, ports=(APP_PORT, PLANTED_PORT), extra_env={"AFFECTLAB_AUTH": "on"}) as app, \
            chromium_page(tmp_path, width=1500) as page:
        page.goto(app["url"], wait_until="domcontentloaded")
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
        page.locator('[data-testid="stMain"]').get_by_role("button", name=re.compile(r"^Sad\b")).first.click()
        settle(page)
        page.get_by_role("button", name="Save & next").click()
        settle(page)
    with create_engine(f"sqlite:///{tmp_path / 'a.db'}").connect() as c:
        rows = c.execute(text("SELECT a.name FROM annotations n JOIN annotators a ON a.id = n.annotator_id "
                              "WHERE n.source = 'human'")).all()
    assert rows == [("ana",)], rows
