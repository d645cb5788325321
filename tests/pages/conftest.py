"""A seeded store with real crop files for page tests, and an AppTest factory running app.py."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.ingest import import_path
from core.splits import split_dataset
from core.store.db import write_session
from tests.helpers import write_affectnet_csv


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Query caches live in the process, across AppTest runs: start each test without them."""
    import streamlit as st

    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def seeded(env):
    """Dataset "demo": 40 labelled crops (5 per AffectNet class), split 70/15/15."""
    import_path("csv", write_affectnet_csv(env / "in", 40, subjects=10), dataset="demo")
    with write_session() as s, s.begin():
        split_dataset(s, 1, "70/15/15")
    return env


@pytest.fixture
def app(seeded):
    def make(page: str | None = None, **state) -> AppTest:
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        if page:
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, at.exception
        return at

    return make
