"""AppTest of the Train page's SSL option: it queues `ssl` jobs for the worker with the stage,
dataset, epochs and the previous stage's job, and lists them with their status. No worker runs
here (tests/training/test_jobs_ssl.py runs the jobs), so the rows stay as the test sets them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.jobs.status import RunStatus
from core.store.db import read_session, write_session
from core.store.models import Job
from tests.apptest import open_app
from tests.training.test_ssl import openface  # noqa: F401 - the synthetic OpenFace dataset "of"


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """The page would start a real worker on first use; here it finds a (fake) one running."""
    monkeypatch.setattr("ui.training.ensure_worker", lambda **_: {"pid": 0, "started": False})


def _jobs() -> list[Job]:
    with read_session() as s:
        return list(s.scalars(select(Job).order_by(Job.id)))


def _queue(at, stage: str, epochs: int, init=None):
    at.selectbox(key="ssl_stage").set_value(stage).run()
    at.number_input(key="ssl_epochs").set_value(epochs)
    if init is not None:
        at.selectbox(key="ssl_init").set_value(init)
    at.button(key="ssl_queue").click().run()
    assert not at.exception, at.exception


def test_the_ssl_option_queues_each_stage_with_its_arguments(openface):  # noqa: F811
    at = open_app("train", dataset_id=1)
    assert any(c.value.startswith("Job worker pid 0") for c in at.caption)
    _queue(at, "pretrain", 3)
    (job,) = _jobs()
    assert job.kind == "ssl" and job.run_id is None
    assert job.args == {"stage": "pretrain", "dataset": "of", "epochs": 3, "init_job": None}
    table = next(d.value for d in at.dataframe if "stage" in d.value.columns)
    assert list(table["job"]) == [job.id] and list(table["stage"]) == ["pretrain"]

    at.selectbox(key="ssl_stage").set_value("finetune").run()  # no classify job yet: nothing to start from
    assert at.button(key="ssl_queue").disabled and at.selectbox(key="ssl_init").options == []
    with write_session() as s, s.begin():  # a finished pretrain and classify, as the worker leaves them
        s.get(Job, job.id).status = RunStatus.SUCCEEDED.value
        cls = Job(kind="ssl", status=RunStatus.SUCCEEDED.value, result={"checkpoint": "c.pt"},
                  args={"stage": "classify", "dataset": "of", "epochs": 1, "init_job": job.id})
        s.add(cls)
        s.flush()
        cls_id = cls.id
    at.run()
    assert at.selectbox(key="ssl_init").options == [f"classify job {cls_id}"]
    _queue(at, "finetune", 2, init=cls_id)
    assert _jobs()[-1].args == {"stage": "finetune", "dataset": "of", "epochs": 2, "init_job": cls_id}

    at.selectbox(key="ssl_stage").set_value("classify").run()  # scratch or the pretrain job
    assert at.selectbox(key="ssl_init").options == ["scratch", f"pretrain job {job.id}"]
    _queue(at, "classify", 1, init=job.id)
    assert _jobs()[-1].args == {"stage": "classify", "dataset": "of", "epochs": 1, "init_job": job.id}
