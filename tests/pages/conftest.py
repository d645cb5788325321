"""A seeded store with real crop files for page tests, and an AppTest factory running app.py."""
from __future__ import annotations

import pytest

from core.ingest import import_path
from core.splits import split_dataset
from core.store.db import write_session
from tests.apptest import open_app
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
    """open_app(page, **state) on the seeded store."""
    return open_app


@pytest.fixture
def app_modes(env):
    """open_app(page, **state) on a store with the three label-mode datasets (tests/pages/modes_seed.py)."""
    from tests.pages.modes_seed import seed_modes

    seed_modes(env)
    return lambda page=None, **state: open_app(page, **{"demo_ready": True, **state})  # no demo build
