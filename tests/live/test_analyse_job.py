"""The "analyse" job (core.analyse_job): a long uploaded video analysed by the real worker with true
progress to 1.0, stopped by a cancel, per-visitor job caps and cancel rights on a hosted instance."""
from __future__ import annotations

import time

import pytest

from core import auth
from core.analyse_job import (
    analysis_state,
    cancel_analysis,
    load_timeline,
    runs_as_job,
    save_upload,
    submit_analysis,
    video_seconds,
)
from core.auth import AccessDenied
from core.config import get_settings
from core.jobs.proc import ProcIdentity, is_alive
from core.jobs.status import FINAL, RunStatus
from core.limits import LimitExceeded
from core.paths import PathRefused
from core.store.db import read_session
from core.store.models import Job
from tests.live.analyse_common import face_video, wait_until, worker_thread

S = RunStatus


def _follow(job_id: int, *, timeout: float) -> list[dict]:
    """analysis_state every 50 ms until the job ends; every state seen."""
    seen: list[dict] = []

    def ended() -> bool:
        seen.append(analysis_state(job_id))
        return seen[-1]["status"] in FINAL

    wait_until(ended, timeout=timeout, what=f"analysis job {job_id} to end")
    return seen


def test_the_worker_analyses_a_long_video_with_true_progress(live_env):
    video = face_video(live_env / "clip.mp4", loops=8)  # 19.2 s, 576 frames
    path = save_upload(video.read_bytes(), name="my clip.mp4")
    assert path.parent.parent == get_settings().data_dir / "uploads" and path.name == "video.mp4"
    assert video_seconds(path) == pytest.approx(19.2, abs=0.1) and runs_as_job(31) and not runs_as_job(19.2)
    job_id = submit_analysis(path, name="my clip.mp4", model="default", fps=5)
    with worker_thread():
        seen = _follow(job_id, timeout=300)
    final = seen[-1]
    assert final["status"] == S.SUCCEEDED, final
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)  # never goes back
    assert any(0 < p < 1 for p in progress), progress  # seen part-way, not jumping 0 -> 1
    assert final["progress"] == 1.0 and final["frames_done"] == final["frames_total"] == 576
    running = [s for s in seen if s["status"] == S.RUNNING and s["frames_total"]]
    assert all(s["progress"] == pytest.approx(s["frames_done"] / 576, abs=1e-3) for s in running)
    df = load_timeline(job_id)
    assert df["frame"].nunique() == final["analysed"] == 96  # 5 per second of 19.2 s
    assert (df["face"] == 0).sum() >= 90 and df["time_s"].is_monotonic_increasing
    assert df["valence"].between(-1, 1).all() and not path.exists()  # the upload is not kept


def test_cancel_stops_a_running_analysis(live_env):
    video = face_video(live_env / "long.mp4", loops=40)  # 96 s, 2,880 frames
    path = save_upload(video.read_bytes(), name="long.mp4")
    job_id = submit_analysis(path, name="long.mp4", model="default", fps=15)
    with worker_thread(grace_s=120):  # the worker would kill it only after 2 min: the job stops itself
        state = wait_until(lambda: (st := analysis_state(job_id))["frames_done"] > 0 and st,
                           timeout=240, what="the analysis to report progress")
        with read_session() as s:
            proc = ProcIdentity.from_dict(s.get(Job, job_id).proc)
        asked = time.monotonic()
        assert cancel_analysis(job_id) == S.CANCELLING
        seen = _follow(job_id, timeout=30)
        took = time.monotonic() - asked
    final = seen[-1]
    assert final["status"] == S.CANCELLED and final["error"] is None  # ended itself, not killed
    assert took < 10, took
    assert 0 < state["progress"] <= final["progress"] < 1
    wait_until(lambda: not is_alive(proc), timeout=10, what="the job process to exit")
    assert not path.exists() and not (path.parent / "timeline.parquet").exists()
    with pytest.raises(LookupError):
        load_timeline(job_id)


@pytest.fixture
def hosted_visitors(live_env, monkeypatch):
    monkeypatch.setenv("AFFECTLAB_AUTH", "on")
    monkeypatch.setenv("AFFECTLAB_LIMIT_JOBS", "1")
    auth.serve_visitors()  # a call without identity is an anonymous visitor's
    yield live_env
    monkeypatch.delenv("AFFECTLAB_AUTH")
    auth.serve_visitors()


def test_visitors_job_cap_and_cancel_rights(hosted_visitors):
    def upload():
        return save_upload(b"not decoded until the job runs", name="v.mp4")

    first = submit_analysis(upload(), name="v.mp4", model="default", fps=2, session_key="tab-a")
    with pytest.raises(LimitExceeded, match=r"you already have 1 jobs queued or running \(limit 1\)"):
        submit_analysis(upload(), name="v.mp4", model="default", fps=2, session_key="tab-a")
    other = submit_analysis(upload(), name="v.mp4", model="default", fps=2, session_key="tab-b")
    with pytest.raises(AccessDenied, match="not yours"):
        cancel_analysis(first, session_key="tab-b")
    with read_session() as s:
        queued = s.get(Job, first)
        assert queued.status == S.QUEUED and queued.submitted_by == "session:tab-a"
        stored = queued.args["path"]
    assert cancel_analysis(first, session_key="tab-a") == S.CANCELLED
    assert not (get_settings().data_dir / stored).exists()  # a cancelled queued job leaves no upload
    assert analysis_state(other)["status"] == S.QUEUED
    submit_analysis(upload(), name="v.mp4", model="default", fps=2, session_key="tab-a")  # room again


def test_only_uploads_are_analysed(live_env, tmp_path):
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"x")
    with pytest.raises(PathRefused):
        submit_analysis(outside, name="x.mp4", model="default", fps=2)
    with pytest.raises(ValueError, match="frames per second"):
        submit_analysis(save_upload(b"x", name="x.mp4"), name="x.mp4", model="default", fps=0)
    with pytest.raises(ValueError, match="not a video file"):
        save_upload(b"x", name="x.exe")
