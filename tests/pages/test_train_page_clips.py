"""AppTest of the Train page's clip-model option: offered on a dataset that has clips, it queues a
clip Run (kind "clip", the chosen model, epochs, batch size) for the worker; fusion needs two
finished clip runs. No worker runs here (tests/training/test_clip_jobs.py runs clip runs)."""
from __future__ import annotations

from sqlalchemy import select

from core.ingest import import_path
from core.store.db import read_session
from core.store.models import Run
from tests.apptest import open_app
from tests.clips.clipgen import FACES
from tests.ingest.clipsets import clip
from tests.pages.test_train_page_ssl import no_worker  # noqa: F401 - autouse: a fake running worker


def _runs() -> list[Run]:
    with read_session() as s:
        return list(s.scalars(select(Run).order_by(Run.id)))


def test_the_clip_option_queues_a_clip_run(env):
    root = env / "crema"
    for i, emo in enumerate(("ANG", "HAP")):
        clip(root / f"10{i:02d}_DFA_{emo}_XX.mp4", face=FACES[i], audio_hz=440.0)
    import_path("crema-d", root, dataset="cd", options={"clip_frames": 4})
    at = open_app("train", dataset_id=1)
    assert any("2 video clips" in e.label for e in at.expander)
    at.selectbox(key="clip_kind").set_value("audio-visual").run()
    at.number_input(key="clip_epochs").set_value(3)
    at.number_input(key="clip_batch").set_value(8)
    at.button(key="clip_queue").click().run()
    assert not at.exception, at.exception
    (run,) = _runs()
    assert run.config["kind"] == "clip" and run.config["model_kind"] == "audio-visual"
    assert (run.config["epochs"], run.config["batch_size"], run.config["dataset"]) == (3, 8, "cd")
    assert run.status == "queued"

    at.selectbox(key="clip_kind").set_value("fusion").run()  # no finished clip run to fuse yet
    assert at.multiselect(key="clip_members").options == []
    at.button(key="clip_queue").click().run()
    assert any("two finished" in e.value for e in at.error) and len(_runs()) == 1


def test_no_clip_option_without_clips(env):
    from core.store.datasets import get_or_create_dataset
    from core.store.db import write_session

    with write_session() as s, s.begin():
        get_or_create_dataset(s, "stills")
    at = open_app("train", dataset_id=1)
    assert not any("video clips" in e.label for e in at.expander)
