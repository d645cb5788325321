"""AppTest of the Upload page's long-video path: a video over AFFECTLAB_LONG_VIDEO_S is queued as an
"analyse" job (progress bar and Cancel on the page, nothing analysed in the page run), its timeline
shown once the job ran; Cancel ends it; a short video stays inline."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.jobs.status import RunStatus
from core.store.db import read_session
from core.store.models import Job
from tests.live.analyse_common import face_video

S = RunStatus


@pytest.fixture
def upload_page(live_env, monkeypatch):
    """The Upload page with a 3 s threshold; no worker is started (the test runs the job itself)."""
    import streamlit as st

    from core.store.db import write_session
    from tests.store.seed import seed_samples

    with write_session() as s, s.begin():
        seed_samples(s, 4, dataset="demo")  # app.py skips building the demo
    monkeypatch.setenv("AFFECTLAB_LONG_VIDEO_S", "3")
    started: list[dict] = []
    import ui.analysis_job  # patched where the page calls it: an earlier test may have imported it already

    def fake_worker(**kw):
        started.append(kw)
        return {"pid": 0}

    monkeypatch.setattr("core.jobs.worker.ensure_worker", fake_worker)
    monkeypatch.setattr(ui.analysis_job, "ensure_worker", fake_worker)
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/upload.py").run()
    assert not at.exception, at.exception
    yield at, started
    st.cache_data.clear()


def _submit(at: AppTest, video: bytes, name: str = "long.mp4") -> AppTest:
    at.file_uploader(key="upload_video").set_value((name, video, "video/mp4")).run()
    at.slider(key="up_fps").set_value(4.0).run()
    return at.button(key="analyse").click().run()


def _job() -> Job:
    with read_session() as s:
        (job,) = s.query(Job).all()
        s.expunge(job)
        return job


def test_a_long_video_is_analysed_as_a_job_with_progress(upload_page, live_env):
    from training.jobrun import run_job

    at, started = upload_page
    _submit(at, face_video(live_env / "long.mp4", loops=2).read_bytes())  # 4.8 s > 3 s
    assert not at.exception, at.exception
    job = _job()
    assert job.kind == "analyse" and job.status == S.QUEUED and job.args["fps"] == 4.0
    assert started and "timeline" not in at.session_state  # the page analysed nothing itself
    (bar,) = at.get("progress")
    assert "long.mp4: waiting for the job worker" in bar.proto.text
    assert at.button(key="analyse_cancel").label == "Cancel"
    assert run_job(job.id)["status"] == S.SUCCEEDED  # what the worker's job process does
    at.run()
    assert not at.exception, at.exception
    name, df = at.session_state["timeline"]
    assert name == "long.mp4" and df["frame"].nunique() == 20 and (df["face"] == 0).sum() >= 18
    assert len(at.get("plotly_chart")) == 1 and at.get("download_button")
    assert not at.get("progress") and "analysis_job" not in at.session_state


def test_cancel_on_the_page_ends_the_job(upload_page, live_env):
    at, _ = upload_page
    _submit(at, face_video(live_env / "long.mp4", loops=2).read_bytes())
    at.button(key="analyse_cancel").click().run()
    assert not at.exception, at.exception
    assert _job().status == S.CANCELLED
    assert any("Analysis of long.mp4 cancelled" in i.value for i in at.info)
    assert not at.get("progress") and "timeline" not in at.session_state


def test_a_short_video_stays_inline(upload_page, live_env):
    from core.analyse_job import uploads_root

    at, started = upload_page
    before = set(uploads_root().rglob("*"))
    _submit(at, face_video(live_env / "short.mp4", loops=1).read_bytes(), "short.mp4")  # 2.4 s
    assert not at.exception, at.exception
    name, df = at.session_state["timeline"]
    assert name == "short.mp4" and df["frame"].nunique() >= 8 and not started
    with read_session() as s:
        assert s.query(Job).count() == 0
    assert set(uploads_root().rglob("*")) == before  # the saved upload was removed after the analysis


def test_a_job_gone_from_the_store_is_a_message_not_a_traceback(upload_page, live_env):
    from core.store.db import write_session

    at, _ = upload_page
    _submit(at, face_video(live_env / "long.mp4", loops=2).read_bytes())
    with write_session() as s, s.begin():
        s.query(Job).delete()
    at.run()
    assert not at.exception, at.exception
    assert any("no longer exists" in e.value for e in at.error) and "analysis_job" not in at.session_state
