"""Multi-label, distribution, dominance and named-target labels: per-field current label,
sample_categories upkeep, edits validated against the schema, conflicts, undo and history."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.label_schema import LabelSchema, TargetSpec, emotic_schema, fiv2_schema, mosei_schema
from core.store.current import compute_current, dominant
from core.store.labels import ConflictError, LabelValueError, edit_label, label_history, label_view, undo_last
from core.store.models import Annotation, Sample, SampleCategory
from tests.store.seed import seed_rich


def _sample(read, sid: int) -> Sample:
    with read() as s:
        return s.get(Sample, sid)


def _cats(read, sid: int) -> list[str]:
    with read() as s:
        return sorted(s.scalars(select(SampleCategory.category).where(SampleCategory.sample_id == sid)))


def _edit(write, sid: int, base: int | None, **values) -> Annotation:
    with write() as s, s.begin():
        return edit_label(s, sid, base_annotation_id=base, annotator="ana", **values)


def _undo(write, sid: int, base: int | None):
    with write() as s, s.begin():
        return undo_last(s, sid, base_annotation_id=base, annotator="ana")


def test_imported_multilabel_is_current_and_indexed(write, read):
    with write() as s, s.begin():
        seed_rich(s, emotic_schema(), 6)
    assert _sample(read, 2).cur_emotions == ["Anger", "Annoyance"]  # class order
    assert _sample(read, 3).cur_emotions == [] and _cats(read, 3) == []  # "none" is a value
    assert _cats(read, 2) == ["Anger", "Annoyance"] and _cats(read, 1) == ["Affection"]
    smp = _sample(read, 2)
    assert smp.cur_sources["emotions"] == "imported" and smp.cur_dominance is not None
    assert smp.cur_emotion is None


def test_multilabel_edit_supersedes_only_emotions_and_undo_restores(write, read):
    with write() as s, s.begin():
        seed_rich(s, emotic_schema(), 6)
    before = _sample(read, 2)
    edit = _edit(write, 2, before.cur_annotation_id, emotions=["fear", "Anger"])  # synonym/case read
    smp = _sample(read, 2)
    assert smp.cur_emotions == ["Anger", "Fear"] and smp.cur_sources["emotions"] == "human"
    assert (smp.cur_valence, smp.cur_dominance) == (before.cur_valence, before.cur_dominance)
    assert smp.cur_sources["valence"] == "imported" and _cats(read, 2) == ["Anger", "Fear"]
    _edit(write, 2, edit.id, emotions=[])
    assert _sample(read, 2).cur_emotions == [] and _cats(read, 2) == []
    undo = _undo(write, 2, _sample(read, 2).cur_annotation_id)
    assert undo.current["emotions"] == ["Anger", "Fear"] and _cats(read, 2) == ["Anger", "Fear"]
    _undo(write, 2, undo.current["head"])
    assert _sample(read, 2).cur_emotions == ["Anger", "Annoyance"] and _cats(read, 2) == ["Anger", "Annoyance"]


def test_distribution_edit_is_normalised_and_dominant_class_indexed(write, read):
    with write() as s, s.begin():
        seed_rich(s, mosei_schema(), 6)
    assert _sample(read, 1).cur_distribution == {"Happy": 0.6, "Sad": 0.4} and _cats(read, 1) == ["Happy"]
    assert _sample(read, 3).cur_distribution == {} and _cats(read, 3) == []  # no emotion
    base = _sample(read, 1).cur_annotation_id
    _edit(write, 1, base, distribution={"anger": 3, "Happy": 1})
    smp = _sample(read, 1)
    assert smp.cur_distribution == {"Happy": 0.25, "Anger": 0.75} and _cats(read, 1) == ["Anger"]
    assert smp.cur_targets == _sample(read, 1).cur_targets and smp.cur_sources["target:sentiment"] == "imported"
    _undo(write, 1, smp.cur_annotation_id)
    assert _cats(read, 1) == ["Happy"]


def test_a_trait_edit_supersedes_only_that_trait(write, read):
    with write() as s, s.begin():
        seed_rich(s, fiv2_schema(), 4)
    before = _sample(read, 1).cur_targets
    assert set(before) == {"extraversion", "neuroticism", "agreeableness", "conscientiousness", "openness",
                           "interview"}
    edit = _edit(write, 1, _sample(read, 1).cur_annotation_id, targets={"openness": 0.9})
    smp = _sample(read, 1)
    assert smp.cur_targets == {**before, "openness": 0.9}
    assert smp.cur_sources["target:openness"] == "human" and smp.cur_sources["target:interview"] == "imported"
    second = _edit(write, 1, edit.id, targets={"interview": 0.1})
    assert _sample(read, 1).cur_targets == {**before, "openness": 0.9, "interview": 0.1}
    with read() as s:
        hist = label_history(s, 1)
    assert hist[0].after["targets"] == {"interview": 0.1} and hist[1].after["targets"] == {"openness": 0.9}
    assert hist[0].before["targets"] == {"openness": 0.9}
    _undo(write, 1, second.id)
    assert _sample(read, 1).cur_targets == {**before, "openness": 0.9}
    with pytest.raises(ConflictError):  # the undone edit is no base any more
        _edit(write, 1, second.id, targets={"openness": 0.2})


def test_stale_multilabel_edit_is_a_conflict(write, read):
    with write() as s, s.begin():
        seed_rich(s, emotic_schema(), 3)
    base = _sample(read, 1).cur_annotation_id
    _edit(write, 1, base, emotions=["Pain"])
    with pytest.raises(ConflictError):
        _edit(write, 1, base, emotions=["Peace"])
    assert _sample(read, 1).cur_emotions == ["Pain"] and _cats(read, 1) == ["Pain"]


@pytest.mark.parametrize(("schema", "values", "field"), [
    (emotic_schema(), {"emotions": ["Bored"]}, "emotions"),
    (emotic_schema(), {"emotions": "Anger"}, "emotions"),
    (emotic_schema(), {"emotion": "Anger"}, "emotion"),
    (emotic_schema(), {"distribution": {"Anger": 1}}, "distribution"),
    (emotic_schema(), {"dominance": 1.5}, "dominance"),
    (emotic_schema(), {"stress": 0.5}, "stress"),
    (mosei_schema(), {"distribution": {"Happy": -1}}, "distribution"),
    (mosei_schema(), {"dominance": 0.1}, "dominance"),
    (mosei_schema(), {"targets": {"sentiment": 4}}, "targets"),
    (fiv2_schema(), {"targets": {"charisma": 0.5}}, "targets"),
    (fiv2_schema(), {"targets": {"openness": float("nan")}}, "targets"),
])
def test_edits_are_checked_against_the_schema(write, read, schema, values, field):
    with write() as s, s.begin():
        seed_rich(s, schema, 2)
    head = _sample(read, 1).cur_annotation_id
    with pytest.raises(LabelValueError, match=f"^{field}: "):
        _edit(write, 1, head, **values)
    assert _sample(read, 1).cur_annotation_id == head


def test_label_view_carries_the_new_fields(write, read):
    schema = LabelSchema(classes=("a", "b", "c"), emotion_mode="multi", dominance=True,
                         targets=(TargetSpec("pain", 0, 10),))
    with write() as s, s.begin():
        seed_rich(s, schema, 3)
    _edit(write, 2, _sample(read, 2).cur_annotation_id, emotions=["c"], dominance=-0.5, targets={"pain": 7})
    with read() as s:
        view = label_view(s, 2)
    assert view.sample["emotions"] == ["c"] and view.sample["dominance"] == -0.5
    assert view.sample["targets"]["pain"] == 7 and view.sample["sources"]["target:pain"] == "human"
    assert view.history[0].after["emotions"] == ["c"] and view.history[1].after["emotions"] == ["b", "c"]


def test_compute_current_per_target_and_dominant():
    rows = [Annotation(id=1, source="imported", targets={"x": 0.1, "y": 0.2}, emotions=["a"]),
            Annotation(id=2, source="derived", targets={"z": 0.3}),
            Annotation(id=3, source="human", targets={"x": 0.9}),
            Annotation(id=4, source="human", emotions=[])]
    cur = compute_current(rows)
    assert cur["cur_targets"] == {"x": 0.9, "y": 0.2, "z": 0.3} and cur["cur_emotions"] == []
    assert cur["cur_sources"] == {"emotions": "human", "target:x": "human", "target:y": "imported",
                                  "target:z": "derived"}
    assert compute_current([*rows, Annotation(id=5, source="human", undoes_id=3)])["cur_targets"]["x"] == 0.1
    assert compute_current([Annotation(id=1, source="human", targets={})])["cur_annotation_id"] is None
    assert dominant({"a": 0.5, "b": 0.5}) == "a" and dominant({}) is None and dominant({"a": 0.2, "b": 0.8}) == "b"
