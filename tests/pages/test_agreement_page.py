"""AppTest of the Agreement page (alpha per field, disagreements opened in Relabel), Relabel's blind
"my assignments" queue and the task progress on Overview."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.store.db import read_session, write_session
from core.store.models_tasks import TaskLabel
from core.store.predictions import record_predictions
from core.store.tasks import create_task, get_task, submit_task_label

VOTES = {"ana": ["Happy", "Sad", "Fear", "Anger"], "bob": ["Happy", "Fear", "Fear", "Happy"]}


@pytest.fixture
def task(seeded):
    with write_session() as s, s.begin():
        t = create_task(s, "demo", "triple", k=3, annotators=["ana", "bob", "cy"], blind=True, sample_ids=[1, 2, 3, 4, 5])
        for who, votes in VOTES.items():
            for sid, emotion in enumerate(votes, 1):
                submit_task_label(s, t, sid, annotator=who, emotion=emotion, valence=0.2 * sid - (who == "bob") * 0.1)
        record_predictions(s, [{"sample_id": 1, "model_version": "m", "probs": {"Contempt": 0.99, "Sad": 0.01}}])
    return seeded


def test_agreement_page_shows_alpha_per_field_and_opens_disagreements(app, task):
    at = app("agreement")
    assert at.title[0].value.startswith("Agreement")
    assert [m.value for m in at.metric][:2] == ["0 / 5", "8 / 15"]
    table = at.dataframe[1].value  # progress, alpha table, disagreements
    assert set(table["field"]) == {"emotion", "valence"} and table["samples"].tolist() == [4, 4]
    worst = at.dataframe[2].value
    assert set(worst["sample"][worst["disagreement"] > 0.2]) == {2, 4}  # where ana and bob differ
    at.button(key="open_2").click().run()
    assert not at.exception and at.session_state["relabel_queue"] == [2]
    assert at.session_state["relabel_mode"] == "handed over"


def test_my_assignments_is_blind_and_saves_a_task_label(app, task):
    at = app("relabel", annotator="cy", relabel_mode="my assignments")
    assert not at.exception and at.title[0].value.startswith("My assignments")
    assert "Blind task" in " ".join(c.value for c in at.caption)
    assert not any("model says" in c.value for c in at.caption)  # sample 1 has a prediction
    key = next(b.key for b in at.button if b.key and b.key.endswith("-b0")).rsplit("-", 1)[0]
    assert key.startswith("as-1-")  # cy's first: sample 1 (closest to k); its consensus (Happy) is not shown
    assert all(b.proto.type == "secondary" for b in at.button if b.key and b.key.startswith(key + "-b"))
    at.button(key=f"{key}-b4").click().run()  # Fear
    at.button(key="assign_save").click().run()
    assert not at.exception and at.success[0].value.startswith("Saved sample")
    with read_session() as s:
        rows = s.scalars(select(TaskLabel).where(TaskLabel.sample_id == 1)).all()
    assert len(rows) == 2 + 1
    nxt = next(b.key for b in at.button if b.key and b.key.endswith("-b0"))
    assert not nxt.startswith("as-1-")  # never the same sample twice


def test_overview_shows_task_progress(app, task):
    at = app()
    with read_session() as s:
        assert get_task(s, "demo", "triple").k == 3
    texts = " ".join(c.value for c in at.caption)
    assert "ana 4 labelled, 1 owed" in texts and "cy 0 labelled, 5 owed" in texts


def test_my_assignments_in_a_multi_label_dataset_hides_the_labels_and_saves_chips(app_modes):
    with write_session() as s, s.begin():
        t = create_task(s, "emotic", "chips", k=2, annotators=["ana", "bob"], sample_ids=[1, 2])
        submit_task_label(s, t, 1, annotator="bob", emotions=["Anger"], dominance=0.5)
    at = app_modes("relabel", dataset_id=1, annotator="ana", relabel_mode="my assignments")
    assert not at.exception and at.title[0].value.startswith("My assignments")
    key = next(b.key for b in at.button if b.key and b.key.endswith("-c0")).rsplit("-", 1)[0]
    assert key.startswith("as-1-")  # bob's sample first: it is closest to k
    chips = [b for b in at.button if b.key and b.key.startswith(f"{key}-c") and b.key[-1].isdigit()]
    assert len(chips) == 26 and all(b.proto.type == "secondary" for b in chips)  # neither imported nor bob's
    assert not any(s.key == f"{key}-stress" for s in at.slider)  # EMOTIC has no stress
    at.button(key=f"{key}-c16").click().run()  # Happiness
    at.slider(key=f"{key}-d").set_value(-0.5).run()
    at.button(key="assign_save").click().run()
    assert not at.exception and at.success[0].value.startswith("Saved sample #1")
    with read_session() as s:
        from core.store.models import Sample

        smp = s.get(Sample, 1)
        assert smp.cur_emotions == [] and smp.cur_sources["emotions"] == "consensus:2"  # 1 of 2 each: no majority
        assert smp.cur_dominance == 0.0 and smp.cur_sources["dominance"] == "consensus:2"
