"""AppTest of the Train page: the page only queues, cancels and shows; the worker it starts on
first use trains and evaluates. Labelled counts and refusals before launch; it follows the new
run; an early stop shows its reason."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from core.ingest import import_path
from core.jobs.status import RunStatus
from core.jobs.worker import stop_worker, wait_for_worker
from core.store.db import read_session, write_session
from core.store.models import Job, Run
from tests.helpers import write_image
from tests.training.jobs_common import kill_leftovers

S = RunStatus


@pytest.fixture(autouse=True)
def _stop_worker(env):
    """The page starts a real worker process: stop it and any job it left after each test."""
    yield
    wait_s = 20.0  # a page's worker may still be starting, and a second page run may start another
    while True:
        try:
            wait_for_worker(timeout_s=wait_s)
        except TimeoutError:
            break
        stop_worker(timeout_s=10)
        wait_s = 5.0
    kill_leftovers()


def _runs() -> list[Run]:
    with read_session() as s:
        return list(s.scalars(select(Run).order_by(Run.id)))


def _wait(run_id: int, statuses: tuple[str, ...], timeout: float = 180, table=Run):
    end = time.time() + timeout
    while time.time() < end:
        with read_session() as s:
            row = s.get(table, run_id)
        if row.status in statuses:
            return row
        time.sleep(0.5)
    raise AssertionError(f"{table.__tablename__} {run_id} stuck in {row.status}: {row.error}")


def _launch(at, epochs: int) -> None:
    at.number_input(key="t_epochs").set_value(epochs)
    at.number_input(key="t_batch").set_value(16)
    at.selectbox(key="t_init").set_value("scratch")
    at.button[[b.label for b in at.button].index("Launch")].click().run()


def _df(at, column: str):
    """The dataframe on the page that has this column (runs: "ETA", labelled counts: "split")."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _progress_text(at) -> str:
    return at.get("progress")[0].proto.text


def test_launch_runs_a_job_to_success_and_shows_its_curves(app):
    at = app("train")
    assert "Train · demo" == at.title[0].value
    assert any(c.value.startswith("Job worker pid") for c in at.caption)
    assert wait_for_worker(timeout_s=60).pid  # started on first use
    _launch(at, 2)
    runs = _runs()
    assert len(runs) == 1 and runs[0].config["epochs"] == 2 and runs[0].status in {s.value for s in S}
    run = _wait(runs[0].id, (S.SUCCEEDED, S.FAILED))
    assert run.status == S.SUCCEEDED, run.error
    assert len(run.metrics["history"]) == 2 and run.checkpoint_path
    at.run()
    assert not at.exception
    table = _df(at, "ETA")
    assert list(table["status"]) == ["succeeded"] and list(table["epoch"]) == ["2/2"]
    assert len(at.get("plotly_chart")) >= 3
    at.selectbox(key=f"eval-split-{run.id}").set_value("val").run()
    at.button(key=f"eval-{run.id}").click().run()
    assert not at.exception and at.info[0].value.startswith(f"evaluating run {run.id} on val")
    with read_session() as s:
        job_id = s.scalar(select(Job.id).where(Job.run_id == run.id))
    assert _wait(job_id, (S.SUCCEEDED, S.FAILED), table=Job).status == S.SUCCEEDED
    at.run()
    assert at.success[0].value.startswith(f"run {run.id} on val")
    from core.store.review import runs_with_predictions

    with read_session() as s:
        assert runs_with_predictions(s) == [(run.id, ["val"])]


def test_cancel_a_running_job(app):
    at = app("train")
    _launch(at, 200)
    run_id = _runs()[0].id
    _wait(run_id, (S.RUNNING,))
    at.run()
    at.button(key=f"cancel-{run_id}").click().run()
    run = _wait(run_id, (S.CANCELLED,), timeout=60)
    assert run.status == S.CANCELLED
    at.run()
    assert not at.button(key=f"resume-{run_id}").disabled


def test_the_page_follows_the_run_just_launched(app):
    at = app("train")
    _launch(at, 200)
    first = _runs()[-1].id
    assert at.selectbox(key="run_pick").value == first
    _launch(at, 200)
    second = _runs()[-1].id
    assert second != first and at.selectbox(key="run_pick").value == second
    assert _progress_text(at).startswith(f"run {second} ")
    at.run()  # and it stays on it
    assert at.selectbox(key="run_pick").value == second


def test_an_early_stop_shows_its_reason(app):
    reason = "stopped early at epoch 6/50: no improvement for 5 epochs"
    history = [{"epoch": e, "train_loss": 1.0 / e, "score": 0.1, "val": {}} for e in range(1, 7)]
    with write_session() as s, s.begin():
        s.add(Run(name="early", dataset_id=1, status=S.SUCCEEDED.value, stop_reason=reason,
                  config={"epochs": 50}, progress={"epoch": 6, "epochs": 50, "done": True},
                  metrics={"history": history, "best": {"epoch": 1, "score": 0.1}}))
    at = app("train")
    assert _progress_text(at) == f"run 1 · {reason}"
    row = _df(at, "ETA").iloc[0]
    assert row["status"] == "stopped early" and row["note"] == reason


def test_labelled_counts_and_a_refusal_without_validation_labels(app, env):
    root, lines = env / "bare", ["image_path,emotion,valence,arousal,stress,subject,split"]
    for i in range(12):  # 8 labelled training faces, 4 validation faces nobody labelled
        write_image(root / "imgs" / f"{i}.png", 500 + i)
        labels = f"{i % 8},0.1,0.2," if i < 8 else ",,,"
        lines.append(f"imgs/{i}.png,{labels},s{i},{'train' if i < 8 else 'val'}")
    (root / "l.csv").write_text("\n".join(lines) + "\n")
    import_path("csv", root / "l.csv", dataset="bare")
    at = app("train", dataset_id=2)
    counts = _df(at, "split")
    assert list(counts["split"]) == ["train", "val"] and list(counts["samples"]) == [8, 4]
    assert list(counts["emotion"]) == [8, 0] and list(counts["valence/arousal"]) == [8, 0]
    _launch(at, 2)
    assert not _runs()  # refused: nothing queued
    assert any("validation split 'val' has no labels" in e.value for e in at.error)
    at.selectbox(key="t_splits").set_value("all samples, no validation")
    at.multiselect(key="t_tasks").set_value(["emotion", "va", "stress"])
    _launch(at, 1)
    assert len(_runs()) == 1 and _runs()[0].config["val_split"] is None and not at.error
    demo = app("train")  # the seeded demo: every split labelled for every task
    counts = _df(demo, "split")
    assert set(counts["split"]) == {"train", "val", "test"} and all(counts["emotion"] > 0)
