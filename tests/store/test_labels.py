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


def test_undo_restores_previous_label_and_is_itself_history(write, read):
    with write() as s, s.begin():
        seed_samples(s, 8)
    base = _sample(read, 5).cur_annotation_id
    with write() as s, s.begin():
        first = edit_label(s, 5, base_annotation_id=base, annotator="ana", emotion="Sad")
    with write() as s, s.begin():
        second = edit_label(s, 5, base_annotation_id=first.id, annotator="ana", emotion="Anger")
    with write() as s, s.begin():
        undo = undo_last(s, 5, base_annotation_id=second.id, annotator="ana")
    assert _sample(read, 5).cur_emotion == "Sad"
    with write() as s, s.begin():
        undo_last(s, 5, base_annotation_id=undo.id, annotator="ana")
    smp = _sample(read, 5)
    assert smp.cur_emotion == "Fear" and smp.cur_sources["emotion"] == "imported"
    with pytest.raises(LabelValueError, match="no human edit"):
        with write() as s, s.begin():
            undo_last(s, 5, base_annotation_id=smp.cur_annotation_id, annotator="ana")
    with read() as s:
        assert len(label_history(s, 5)) == 6  # imported, derived stress, 2 edits, 2 undos


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
