"""AppTest of the Train page: launch a tiny real training job, watch it finish, cancel another."""
from __future__ import annotations

import time

from sqlalchemy import select

from core.store.db import read_session
from core.store.models import Run


def _runs() -> list[Run]:
    with read_session() as s:
        return list(s.scalars(select(Run).order_by(Run.id)))


def _wait(run_id: int, statuses: tuple[str, ...], timeout: float = 90) -> Run:
    end = time.time() + timeout
    while time.time() < end:
        run = next(r for r in _runs() if r.id == run_id)
        if run.status in statuses:
            return run
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} stuck in {run.status}: {run.error}")


def _launch(at, epochs: int) -> None:
    at.number_input(key="t_epochs").set_value(epochs)
    at.number_input(key="t_batch").set_value(16)
    at.selectbox(key="t_init").set_value("scratch")
    at.button[[b.label for b in at.button].index("Launch")].click().run()


def test_launch_runs_a_job_to_success_and_shows_its_curves(app):
    at = app("train")
    assert "Train · demo" == at.title[0].value
    _launch(at, 2)
    runs = _runs()
    assert len(runs) == 1 and runs[0].config["epochs"] == 2 and runs[0].status in ("starting", "running", "queued")
    run = _wait(runs[0].id, ("succeeded", "failed"))
    assert run.status == "succeeded", run.error
    assert len(run.metrics["history"]) == 2 and run.checkpoint_path
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["status"]) == ["succeeded"] and list(table["epoch"]) == ["2/2"]
    assert len(at.get("plotly_chart")) >= 3
    at.selectbox(key=f"eval-split-{run.id}").set_value("val").run()
    at.button(key=f"eval-{run.id}").click().run()
    assert not at.exception and at.success[0].value.startswith(f"run {run.id} on val")
    from core.store.review import runs_with_predictions

    with read_session() as s:
        assert runs_with_predictions(s) == [(run.id, ["val"])]


def test_cancel_a_running_job(app):
    at = app("train")
    _launch(at, 200)
    run_id = _runs()[0].id
    _wait(run_id, ("running",))
    at.run()
    at.button(key=f"cancel-{run_id}").click().run()
    run = _wait(run_id, ("cancelled",), timeout=60)
    assert run.status == "cancelled"
    at.run()
    assert not at.button(key=f"resume-{run_id}").disabled
