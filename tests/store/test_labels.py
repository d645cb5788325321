"""Append-only labels: precedence, human edits, conflicts between concurrent editors, undo, history."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.store.labels import (
    ConflictError,
    LabelValueError,
    compute_current,
    edit_label,
    label_history,
    undo_last,
)
from core.store.models import Annotation, Sample
from core.store.predictions import latest_predictions, record_predictions
from tests.store.seed import seed_samples


def _sample(read, sid=1) -> Sample:
    with read() as s:
        return s.get(Sample, sid)


def test_imported_label_with_derived_stress_is_current(write, read):
    with write() as s, s.begin():
        seed_samples(s, 8)
    smp = _sample(read)
    assert smp.cur_emotion == "Neutral" and smp.cur_source == "imported"
    assert smp.cur_stress == 0.0 and smp.cur_sources["stress"] == "derived"
    with read() as s:
        assert s.scalar(select(func.count()).select_from(Annotation)) == 8 + 5  # Neutral, Happy, Sad, Fear, Anger derive stress


def test_human_edit_appends_and_wins_keeping_history(write, read):
    with write() as s, s.begin():
        seed_samples(s, 8)
    base = _sample(read, 2).cur_annotation_id
    with write() as s, s.begin():
        ann = edit_label(s, 2, base_annotation_id=base, annotator="ana", emotion="Sad", valence=-0.5)
    smp = _sample(read, 2)
    assert (smp.cur_emotion, smp.cur_valence, smp.cur_source) == ("Sad", -0.5, "human")
    assert smp.cur_annotation_id == ann.id and smp.cur_sources["arousal"] == "imported"
    with read() as s:
        hist = label_history(s, 2)
    assert [h.source for h in hist][:1] == ["human"] and hist[0].annotator == "ana"
    assert hist[0].before["emotion"] == "Happy" and hist[0].after["emotion"] == "Sad"
    with read() as s:  # nothing overwritten: the imported row is still there unchanged
        imported = s.scalars(select(Annotation).where(Annotation.sample_id == 2,
                                                      Annotation.source == "imported")).one()
    assert imported.emotion == "Happy"


def test_stale_edit_is_a_conflict_and_changes_nothing(write, read):
    with write() as s, s.begin():
        seed_samples(s, 8)
    base = _sample(read, 3).cur_annotation_id
    with write() as s, s.begin():
        edit_label(s, 3, base_annotation_id=base, annotator="ana", emotion="Fear")
    with pytest.raises(ConflictError, match="changed by ana"):
        with write() as s, s.begin():
            edit_label(s, 3, base_annotation_id=base, annotator="bob", emotion="Anger")
    assert _sample(read, 3).cur_emotion == "Fear"
    with read() as s:
        assert s.scalar(select(func.count()).where(Annotation.sample_id == 3,
                                                   Annotation.source == "human")) == 1


def test_two_threads_editing_one_sample_one_wins_one_conflicts(write, read):
    with write() as s, s.begin():
        seed_samples(s, 8)
    base = _sample(read, 4).cur_annotation_id
    barrier, results = threading.Barrier(2), {}

    def editor(name: str, emotion: str) -> None:
        barrier.wait()
        try:
            with write() as s, s.begin():
                edit_label(s, 4, base_annotation_id=base, annotator=name, emotion=emotion)
            results[name] = "saved"
        except ConflictError:
            results[name] = "conflict"

    threads = [threading.Thread(target=editor, args=a) for a in (("ana", "Sad"), ("bob", "Happy"))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results.values()) == ["conflict", "saved"]
    winner = next(n for n, r in results.items() if r == "saved")
    assert _sample(read, 4).cur_emotion == {"ana": "Sad", "bob": "Happy"}[winner]


def _edit(write, sid: int, base: int | None, **values):
    with write() as s, s.begin():
        return edit_label(s, sid, base_annotation_id=base, annotator=values.pop("annotator", "ana"), **values)


def _undo(write, sid: int, base: int | None):
    with write() as s, s.begin():
        return undo_last(s, sid, base_annotation_id=base, annotator="ana")


def test_undo_restores_previous_label_and_is_itself_history(write, read):
    with write() as s, s.begin():
        seed_samples(s, 8)
    base = _sample(read, 5).cur_annotation_id
    first = _edit(write, 5, base, emotion="Sad")
    second = _edit(write, 5, first.id, emotion="Anger")
    undo = _undo(write, 5, second.id)
    assert undo.annotation.undoes_id == second.id and undo.annotation.raw is None
    assert undo.undone.id == second.id and undo.current["emotion"] == "Sad"
    smp = _sample(read, 5)  # the undone edit's predecessor is the head again, not the undo row
    assert (smp.cur_emotion, smp.cur_annotation_id, smp.cur_source) == ("Sad", first.id, "human")
    assert undo.current["head"] == first.id
    again = _undo(write, 5, undo.current["head"])
    smp = _sample(read, 5)
    assert smp.cur_emotion == "Fear" and smp.cur_sources["emotion"] == "imported"
    assert (smp.cur_source, smp.cur_annotation_id) == ("imported", base) == ("imported", again.current["head"])
    with pytest.raises(LabelValueError, match="no human edit"):
        with write() as s, s.begin():
            undo_last(s, 5, base_annotation_id=smp.cur_annotation_id, annotator="ana")
    with read() as s:
        hist = label_history(s, 5)
    assert len(hist) == 6  # imported, derived stress, 2 edits, 2 undos
    assert [h.undoes_id for h in hist[:2]] == [first.id, second.id]


def test_edit_after_undo_is_based_on_the_restored_head(write, read):
    with write() as s, s.begin():
        seed_samples(s, 8)
    base = _sample(read, 6).cur_annotation_id
    edit = _edit(write, 6, base, emotion="Sad")
    undo = _undo(write, 6, edit.id)
    _edit(write, 6, undo.current["head"], emotion="Fear")  # no conflict with one's own undo
    assert _sample(read, 6).cur_emotion == "Fear"
    with pytest.raises(ConflictError):  # the undone edit is no base any more
        with write() as s, s.begin():
            edit_label(s, 6, base_annotation_id=edit.id, annotator="bob", emotion="Anger")


def test_undo_of_the_only_label_of_an_unlabelled_sample_leaves_no_head(write, read):
    with write() as s, s.begin():
        seed_samples(s, 4, labelled=0.0)
    edit = _edit(write, 2, None, valence=0.3, arousal=0.1)
    undo = _undo(write, 2, edit.id)
    smp = _sample(read, 2)
    assert (smp.cur_annotation_id, smp.cur_valence, smp.cur_source) == (None, None, None)
    assert undo.current == {"emotion": None, "emotions": None, "distribution": None, "valence": None,
                            "arousal": None, "dominance": None, "stress": None, "targets": None, "head": None}
    _edit(write, 2, None, valence=-0.4)
    assert _sample(read, 2).cur_valence == -0.4


def test_an_edit_records_the_prediction_it_was_based_on(write, read):
    with write() as s, s.begin():
        seed_samples(s, 4)
        record_predictions(s, [{"sample_id": 1, "model_version": "m", "probs": {"Sad": 0.9, "Happy": 0.1}},
                               {"sample_id": 2, "model_version": "m", "probs": {"Sad": 0.2, "Happy": 0.8}}])
    with read() as s:
        pred1, pred2 = (latest_predictions(s, i)[0].id for i in (1, 2))
    with write() as s, s.begin():
        ann = edit_label(s, 1, base_annotation_id=_sample(read, 1).cur_annotation_id, annotator="ana",
                         emotion="Sad", prediction_id=pred1)
    with read() as s:
        assert s.get(Annotation, ann.id).prediction_id == pred1
        assert label_history(s, 1)[0].prediction_id == pred1
    with pytest.raises(LabelValueError, match="not a prediction of sample 1"):
        with write() as s, s.begin():
            edit_label(s, 1, base_annotation_id=ann.id, annotator="ana", emotion="Happy", prediction_id=pred2)


def test_bad_values_are_refused(write):
    with write() as s, s.begin():
        seed_samples(s, 2)
    for kwargs in ({"valence": 1.5}, {"stress": -0.1}, {"emotion": "Bored"}, {}):
        with pytest.raises(LabelValueError):
            with write() as s, s.begin():
                edit_label(s, 1, base_annotation_id=None, annotator="ana",
                           classes=["Neutral", "Happy"], **kwargs)


def test_compute_current_precedence_human_over_imported_over_derived():
    rows = [Annotation(id=1, source="imported", emotion="Happy", stress=None),
            Annotation(id=2, source="derived", stress=0.0, valence=0.8),
            Annotation(id=3, source="imported", emotion="Sad"),
            Annotation(id=4, source="human", valence=-0.2)]
    cur = compute_current(rows)
    assert cur["cur_emotion"] == "Sad" and cur["cur_valence"] == -0.2 and cur["cur_stress"] == 0.0
    assert cur["cur_annotation_id"] == 4 and cur["cur_sources"]["stress"] == "derived"
    undone = compute_current([*rows, Annotation(id=5, source="human", undoes_id=4),
                              Annotation(id=6, source="derived", undoes_id=2, stress=1.0)])
    assert undone["cur_valence"] is None and undone["cur_stress"] == 1.0  # 4 and 2 undone
    assert (undone["cur_annotation_id"], undone["cur_source"]) == (3, "imported")  # never an undo row


def test_reimport_with_a_new_emotion_undoes_the_old_derived_label(write, read):
    from core.ingest.commit import commit_samples
    from core.ingest.records import PendingSample
    from core.rules import DerivationRules
    from core.store.datasets import get_or_create_dataset

    sha = "a" * 64
    with write() as s, s.begin():
        ds = get_or_create_dataset(s, "r")
        for emotion in ("Anger", "Happy"):  # stress 1 derived, then stress 0 replacing it
            commit_samples(s, ds, [PendingSample(crop_sha256=sha, crop_path="c.png", source_path="c.png",
                                                 emotion=emotion)], rules=DerivationRules())
    with read() as s:
        derived = list(s.scalars(select(Annotation).where(Annotation.source == "derived")
                                 .order_by(Annotation.id)))
    assert [d.stress for d in derived] == [1.0, 0.0] and derived[1].undoes_id == derived[0].id
    assert "undo" not in (derived[1].raw or {})
    smp = _sample(read)
    assert (smp.cur_emotion, smp.cur_stress, smp.cur_source) == ("Happy", 0.0, "imported")
