"""Per-identity limits (core.limits): concurrent analyses, the token-bucket budget with an injected
clock, isolation between visitors, admins and the local operator unlimited, the Upload page's
warning when the budget is spent, the Gradio photo analysis, and the cap on queued jobs."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from core import limits
from core.auth import ANONYMOUS, LOCAL_OPERATOR, Identity, Role
from core.jobs import store as jobs
from core.jobs.status import RunStatus
from core.limits import AnalysisLimiter, LimitExceeded, Limits, check_job_cap, limits_from_env
from core.store.db import write_session
from core.store.models import Run

ROOT = Identity("root", Role.ADMIN, authenticated=True)
ROOT2 = Identity("root2", Role.ADMIN, authenticated=True)
VIC = Identity("vic", Role.VIEWER, authenticated=True)
CONFIG = {"dataset": "demo", "backbone": "mini_xception", "epochs": 1}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _run(limiter: AnalysisLimiter, who: Identity, session: str | None = None) -> None:
    with limiter.analysis(who, session):
        pass


def test_one_analysis_at_a_time_per_visitor():
    limiter = AnalysisLimiter(Limits(concurrent=1, analyses=0))
    with limiter.analysis(VIC):
        with pytest.raises(LimitExceeded, match="already running"):
            _run(limiter, VIC)
        _run(limiter, ANONYMOUS, "other-session")  # another visitor is not held up
    _run(limiter, VIC)  # the slot is free again once the first one ends


def test_slot_freed_when_the_analysis_fails():
    limiter = AnalysisLimiter(Limits(concurrent=1, analyses=0))
    with pytest.raises(ValueError), limiter.analysis(VIC):
        raise ValueError("model failed")
    _run(limiter, VIC)


def test_concurrent_threads_capped():
    limiter = AnalysisLimiter(Limits(concurrent=2, analyses=0))
    inside, release, refused = threading.Barrier(3), threading.Event(), []

    def hold():
        with limiter.analysis(VIC):
            inside.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait(5)  # both hold a slot
    try:
        _run(limiter, VIC)
    except LimitExceeded as exc:
        refused.append(str(exc))
    release.set()
    for t in threads:
        t.join(5)
    assert refused and "2 analyses are already running" in refused[0]
    _run(limiter, VIC)


def test_token_bucket_refills_with_the_clock():
    clock = Clock()
    limiter = AnalysisLimiter(Limits(concurrent=0, analyses=3, window_s=600), clock=clock)
    for _ in range(3):
        _run(limiter, VIC)
    with pytest.raises(LimitExceeded, match=r"budget spent \(3 per 10 min\): try again in 3 min 20 s") as err:
        _run(limiter, VIC)
    assert err.value.retry_after_s == pytest.approx(200)
    clock.t += 150  # 0.75 of a token back: still refused, with the rest of the wait
    with pytest.raises(LimitExceeded, match="try again in 50 s"):
        _run(limiter, VIC)
    clock.t += 50
    _run(limiter, VIC)
    with pytest.raises(LimitExceeded):
        _run(limiter, VIC)
    clock.t += 10_000  # a long pause refills to the cap, not beyond
    for _ in range(3):
        _run(limiter, VIC)
    with pytest.raises(LimitExceeded):
        _run(limiter, VIC)


def test_budgets_are_per_identity_and_per_anonymous_session():
    limiter = AnalysisLimiter(Limits(concurrent=0, analyses=1), clock=Clock())
    _run(limiter, VIC)
    with pytest.raises(LimitExceeded):
        _run(limiter, VIC, "any session")  # a signed-in visitor's budget follows the name
    _run(limiter, Identity("ana", Role.ANNOTATOR, authenticated=True))
    _run(limiter, ANONYMOUS, "tab-1")
    _run(limiter, ANONYMOUS, "tab-2")
    with pytest.raises(LimitExceeded):
        _run(limiter, ANONYMOUS, "tab-1")


def test_admins_and_local_operator_unlimited_unless_asked():
    limiter = AnalysisLimiter(Limits(concurrent=1, analyses=1), clock=Clock())
    for who in (LOCAL_OPERATOR, ROOT):
        with limiter.analysis(who):
            for _ in range(5):
                _run(limiter, who)
    strict = AnalysisLimiter(Limits(concurrent=1, analyses=1, admins=True), clock=Clock())
    _run(strict, LOCAL_OPERATOR)
    with pytest.raises(LimitExceeded):
        _run(strict, LOCAL_OPERATOR)


def test_limits_from_env(monkeypatch):
    assert limits_from_env() == Limits()
    monkeypatch.setenv("AFFECTLAB_LIMIT_ANALYSES", "5")
    monkeypatch.setenv("AFFECTLAB_LIMIT_WINDOW_S", "60")
    monkeypatch.setenv("AFFECTLAB_LIMIT_JOBS", "0")
    monkeypatch.setenv("AFFECTLAB_LIMIT_ADMINS", "on")
    assert limits_from_env() == Limits(concurrent=1, analyses=5, window_s=60.0, jobs=0, admins=True)
    monkeypatch.setenv("AFFECTLAB_LIMIT_CONCURRENT", "two")
    with pytest.raises(ValueError, match="AFFECTLAB_LIMIT_CONCURRENT='two'"):
        limits_from_env()


def test_upload_page_warns_when_the_budget_is_spent(hosted, monkeypatch):
    from core.assets import asset_path
    from tests.apptest import open_app

    monkeypatch.setattr("ui.limits.ANALYSES", AnalysisLimiter(Limits(concurrent=1, analyses=1)))
    at = open_app("upload")  # an anonymous visitor of the hosted instance
    photo = asset_path("0-f15-hao-ph.jpg").read_bytes()
    at.file_uploader(key="upload_images").set_value([("one.jpg", photo, "image/jpeg"),
                                                     ("two.jpg", photo, "image/jpeg")]).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == 1  # the first photo analysed, the second refused
    assert any("analysis budget spent" in w.value and "try again in" in w.value for w in at.warning)


def test_upload_page_local_user_unlimited(env, monkeypatch):
    from core.assets import asset_path
    from tests.apptest import open_app

    monkeypatch.setattr("ui.limits.ANALYSES", AnalysisLimiter(Limits(concurrent=1, analyses=1)))
    at = open_app("upload")  # AFFECTLAB_AUTH off: the local admin
    photo = asset_path("0-f15-hao-ph.jpg").read_bytes()
    at.file_uploader(key="upload_images").set_value([(f"{i}.jpg", photo, "image/jpeg") for i in range(3)]).run()
    assert not at.exception and len(at.dataframe) == 3
    assert not [w for w in at.warning if "budget" in w.value or "already running" in w.value]


def test_gradio_photo_warns_over_budget(hosted, monkeypatch):
    import gradio as gr

    import gradio_app

    monkeypatch.setattr(limits, "ANALYSES", AnalysisLimiter(Limits(concurrent=1, analyses=1)))
    monkeypatch.setattr(gradio_app, "analyze_image", lambda *a, **k: ("image", "label", "va", "text", "json"))
    fn = gradio_app.limited_photo(["default"])
    from gradio.utils import get_type_hints

    assert get_type_hints(fn)["request"] is gr.Request  # gradio hands it the visitor's session
    assert fn("a.jpg", None, [], SimpleNamespace(session_hash="s1"))[0] == "image"
    with pytest.warns(UserWarning, match="analysis budget spent"):
        out = fn("a.jpg", None, [], SimpleNamespace(session_hash="s1"))
    assert len(out) == 5 and "image" not in out
    assert fn("a.jpg", None, [], SimpleNamespace(session_hash="s2"))[0] == "image"  # another visitor


def _set_status(run_id: int, status: RunStatus) -> None:
    with write_session() as s, s.begin():
        s.get(Run, run_id).status = status.value


def test_job_cap_per_signed_in_admin(hosted, monkeypatch):
    first = jobs.create_run(CONFIG, identity=ROOT)
    jobs.submit_job("evaluate", run_id=first, args={}, identity=ROOT)
    with pytest.raises(LimitExceeded, match="root already has 2 jobs queued or running"):
        jobs.create_run(CONFIG, identity=ROOT)
    with pytest.raises(LimitExceeded, match=r"\(limit 2\)"):
        jobs.submit_job("evaluate", run_id=first, args={}, identity=ROOT)
    assert jobs.create_run(CONFIG, identity=ROOT2)  # another admin has its own cap
    _set_status(first, RunStatus.SUCCEEDED)  # a finished run no longer counts
    assert jobs.create_run(CONFIG, identity=ROOT)
    monkeypatch.setenv("AFFECTLAB_LIMIT_JOBS", "0")  # 0: no cap
    assert jobs.create_run(CONFIG, identity=ROOT)


def test_job_cap_local_operator_unlimited(hosted, monkeypatch):
    for _ in range(4):
        jobs.create_run(CONFIG, identity=LOCAL_OPERATOR)
    monkeypatch.setenv("AFFECTLAB_LIMIT_ADMINS", "on")
    with write_session() as s, s.begin():
        assert check_job_cap(s, LOCAL_OPERATOR) == "local"  # old rows were not recorded as its
    jobs.create_run(CONFIG, identity=LOCAL_OPERATOR)
    jobs.create_run(CONFIG, identity=LOCAL_OPERATOR)
    with pytest.raises(LimitExceeded, match="local already has 2"):
        jobs.create_run(CONFIG, identity=LOCAL_OPERATOR)


def test_idle_visitors_budgets_forgotten(monkeypatch):
    monkeypatch.setattr(limits, "MAX_KEYS", 2)
    clock = Clock()
    limiter = AnalysisLimiter(Limits(concurrent=0, analyses=1, window_s=60), clock=clock)
    for tab in ("a", "b", "c"):
        _run(limiter, ANONYMOUS, tab)
    clock.t += 61  # a, b, c idle for a whole window: their buckets are full again
    _run(limiter, ANONYMOUS, "d")
    assert set(limiter._buckets) == {"session:d"}
    _run(limiter, ANONYMOUS, "a")  # a forgotten visitor starts with a full budget


def test_upload_rerun_is_not_a_new_analysis(hosted, monkeypatch):
    from core.assets import asset_path
    from tests.apptest import open_app

    monkeypatch.setattr("ui.limits.ANALYSES", AnalysisLimiter(Limits(concurrent=1, analyses=1)))
    at = open_app("upload")
    at.file_uploader(key="upload_images").set_value(
        [("one.jpg", asset_path("0-f15-hao-ph.jpg").read_bytes(), "image/jpeg")]).run()
    at.slider(key="up_fps").set_value(4.0).run()  # another widget: the page reruns
    assert not at.exception and len(at.dataframe) == 1
    assert not [w for w in at.warning if "budget" in w.value]
