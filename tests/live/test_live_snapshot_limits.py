"""AppTest of Live's snapshot mode on a hosted instance: each new photo costs one analysis of the
visitor's budget (core.limits), a rerun of the same photo does not, an oversized photo is refused."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from core.assets import asset_path
from core.config import REPO_ROOT
from core.limits import AnalysisLimiter, Limits


@pytest.fixture
def hosted_live(live_env, monkeypatch):
    """The Live page for an anonymous visitor (AFFECTLAB_AUTH=on) with a budget of 1 analysis."""
    import streamlit as st

    from core.store.db import write_session
    from tests.store.seed import seed_samples

    with write_session() as s, s.begin():
        seed_samples(s, 4, dataset="demo")  # app.py skips building the demo
    monkeypatch.setenv("AFFECTLAB_AUTH", "on")
    auth.serve_visitors()
    monkeypatch.setattr("ui.limits.ANALYSES", AnalysisLimiter(Limits(concurrent=1, analyses=1)))
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/live.py").run()
    at.toggle(key="live_snapshots").set_value(True).run()
    assert not at.exception, at.exception
    yield at
    monkeypatch.delenv("AFFECTLAB_AUTH")
    auth.serve_visitors()
    st.cache_data.clear()


def _budget_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "budget" in w.value or "already running" in w.value]


def test_snapshots_are_charged_once_each(hosted_live):
    at = hosted_live
    photo = asset_path("0-f15-hao-ph.jpg").read_bytes()
    at.camera_input(key="live_photo").set_value(("one.jpg", photo, "image/jpeg")).run()
    assert not at.exception, at.exception
    assert not _budget_warnings(at) and any("Happy" in c.value for c in at.caption)
    at.slider(key="live_smooth").set_value(0.3).run()  # another widget: the same photo, not charged again
    assert not at.exception and not _budget_warnings(at)
    assert any("Happy" in c.value for c in at.caption)
    at.camera_input(key="live_photo").set_value(("two.jpg", photo, "image/jpeg")).run()  # a new photo
    assert not at.exception, at.exception
    (warning,) = _budget_warnings(at)
    assert "analysis budget spent" in warning and "try again in" in warning
    assert not any("Happy" in c.value for c in at.caption)  # not analysed


def test_a_broken_snapshot_is_a_clear_error(hosted_live):
    at = hosted_live
    at.camera_input(key="live_photo").set_value(("bad.jpg", b"\xff\xd8\xff not a jpeg", "image/jpeg")).run()
    assert not at.exception, at.exception
    assert any("bad.jpg" in e.value for e in at.error)
