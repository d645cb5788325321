"""Append-only labels: human edits with conflict detection, undo, history (current label: current.py)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Identity, Role, recorded_name, require
from core.label_schema import LabelSchema
from core.store.current import FIELDS, compute_current, move_head, refresh_current
from core.store.datasets import dataset_schema
from core.store.models import Annotation, Annotator, Dataset, Prediction, Sample
from core.taxonomy import LabelError

__all__ = ["FIELDS", "compute_current", "refresh_current", "edit_label", "undo_last", "label_history"]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "leave this field as it is" in an edit


class ConflictError(RuntimeError):
    """Someone saved a newer label for the sample after the one this edit was based on."""

    def __init__(self, sample_id: int, base_id: int | None, current: Annotation | None):
        self.sample_id, self.base_id, self.current = sample_id, base_id, current
        who = current.annotator.name if current is not None and current.annotator else "an import"
        when = f"{current.created_at:%Y-%m-%d %H:%M:%S} UTC" if current is not None else "?"
        super().__init__(
            f"sample {sample_id} was changed by {who} at {when} (annotation "
            f"#{current.id if current else None}) after the label you edited (#{base_id}); "
            "reload it and apply your change again")


class LabelValueError(ValueError):
    """An edit with a value outside its range."""


def get_or_create_annotator(session: Session, name: str) -> Annotator:
    name = name.strip()
    if not name or len(name) > 100:
        raise LabelValueError("annotator name must be 1 to 100 characters")
    found = session.scalar(select(Annotator).where(Annotator.name == name))
    if found is None:
        found = Annotator(name=name)
        session.add(found)
        session.flush()
    return found


def _check(emotion: Any, valence: Any, arousal: Any, stress: Any, classes: Sequence[str] | None):
    for name, v, lo in (("valence", valence, -1.0), ("arousal", arousal, -1.0), ("stress", stress, 0.0)):
        if v is not UNSET and v is not None and not (lo <= float(v) <= 1.0):
            raise LabelValueError(f"{name} {v} is outside {lo:g}..1")
    if classes is not None and emotion not in (UNSET, None) and emotion not in classes:
        raise LabelValueError(f"emotion {emotion!r} is not one of {', '.join(classes)}")


def _checked(schema: LabelSchema, values: dict[str, Any]) -> dict[str, Any]:
    """The edit's values as stored (emotions in class order, a distribution normalised), checked
    against the dataset's schema; LabelValueError names the field."""
    need = {"emotion": "single", "emotions": "multi", "distribution": "distribution"}
    out = dict(values)
    for field, value in values.items():
        if value is None:
            continue
        try:
            if field in need and schema.emotion_mode != need[field]:
                raise LabelError(f"the dataset's emotion mode is {schema.emotion_mode!r}, not {need[field]!r}")
            if field == "emotion" and value not in schema.classes:
                raise LabelError(f"{value!r} is not one of {', '.join(schema.classes)}")
            if field == "emotions":
                out[field] = schema.check_emotions(value)
            elif field == "distribution":
                out[field] = schema.check_distribution(dict(value))
            elif field == "targets":
                out[field] = schema.check_targets(dict(value)) or None
            elif field == "dominance":
                if not schema.dominance:
                    raise LabelError("the dataset's schema has no dominance")
                _check(UNSET, value, UNSET, UNSET, None)
            elif field == "stress" and not schema.stress:
                raise LabelError("the dataset's schema has no stress")
        except (ValueError, TypeError, AttributeError) as exc:  # LabelError is a ValueError
            raise LabelValueError(f"{field}: {exc}") from None
    return out


def _move_head(session: Session, sample_id: int, base_id: int | None, new_id: int) -> None:
    if move_head(session, sample_id, base_id, new_id):
        return
    head_id = session.scalar(select(Sample.cur_annotation_id).where(Sample.id == sample_id))
    if head_id is None and session.get(Sample, sample_id) is None:
        raise LookupError(f"sample {sample_id} does not exist")
    raise ConflictError(sample_id, base_id, session.get(Annotation, head_id) if head_id else None)


def _schema_of(session: Session, sample_id: int) -> LabelSchema:
    ds = session.scalar(select(Dataset).join(Sample, Sample.dataset_id == Dataset.id).where(Sample.id == sample_id))
    if ds is None:
        raise LookupError(f"sample {sample_id} does not exist")
    return dataset_schema(ds)


def edit_label(session: Session, sample_id: int, *, base_annotation_id: int | None, annotator: str,
               emotion: Any = UNSET, valence: Any = UNSET, arousal: Any = UNSET,
               stress: Any = UNSET, emotions: Any = UNSET, distribution: Any = UNSET,
               dominance: Any = UNSET, targets: Any = UNSET, note: str = "",
               classes: Sequence[str] | None = None, prediction_id: int | None = None,
               identity: Identity | None = None) -> Annotation:
    """Save a human label based on `base_annotation_id` (the head the editor saw).

    Fields left UNSET keep their current value; `targets` sets only the named targets it holds
    (each is its own field), `emotions=[]` means "none of the classes", `distribution={}` "no
    emotion". Values are checked against the dataset's label schema (LabelValueError naming the
    field). Raises ConflictError when the head moved on, AccessDenied below the annotator role
    (core.auth; a signed-in identity is the annotator). `prediction_id` names the model
    prediction the annotator accepted or corrected.
    """
    annotator = recorded_name(require(identity, Role.ANNOTATOR, "changing a label"), annotator)
    _check(emotion, valence, arousal, stress, classes)
    given = dict(zip(FIELDS, (emotion, emotions, distribution, valence, arousal, dominance, stress, targets)))
    values = _checked(_schema_of(session, sample_id), {f: (None if v is UNSET else v) for f, v in given.items()})
    if all(v is None for v in values.values()):
        raise LabelValueError(f"an edit must set at least one of {', '.join(FIELDS)}")
    if prediction_id is not None:
        pred_sample = session.scalar(select(Prediction.sample_id).where(Prediction.id == prediction_id))
        if pred_sample != sample_id:
            raise LabelValueError(f"prediction #{prediction_id} is not a prediction of sample {sample_id}")
    who = get_or_create_annotator(session, annotator)
    ann = Annotation(sample_id=sample_id, annotator_id=who.id, source="human",
                     supersedes_id=base_annotation_id, note=note, prediction_id=prediction_id,
                     **values)
    session.add(ann)
    session.flush()
    _move_head(session, sample_id, base_annotation_id, ann.id)
    return ann


@dataclass
class Undo:
    """An undo row, the edit it undid and the sample's current label afterwards."""
    annotation: Annotation
    undone: Annotation
    current: dict[str, Any]  # every label field (FIELDS) and head (annotation id)


def undo_last(session: Session, sample_id: int, *, base_annotation_id: int | None,
              annotator: str, identity: Identity | None = None) -> Undo:
    """Undo the newest human edit still in effect: a new row (undoes_id) marks it undone, so the
    labels it replaced show again. Nothing is deleted; `base_annotation_id` guards against conflicts."""
    annotator = recorded_name(require(identity, Role.ANNOTATOR, "undoing a label"), annotator)
    anns = list(session.scalars(select(Annotation).where(Annotation.sample_id == sample_id)))
    undone = {a.undoes_id for a in anns if a.undoes_id is not None}
    active = [a for a in anns if a.source == "human" and a.id not in undone and a.undoes_id is None]
    if not active:
        raise LabelValueError(f"sample {sample_id} has no human edit to undo")
    target = max(active, key=lambda a: a.id)
    ann = Annotation(sample_id=sample_id, source="human", supersedes_id=target.id, undoes_id=target.id,
                     annotator_id=get_or_create_annotator(session, annotator).id,
                     note=f"undo of #{target.id}")
    session.add(ann)
    session.flush()
    _move_head(session, sample_id, base_annotation_id, ann.id)
    smp = session.get(Sample, sample_id)
    current = {f: getattr(smp, f"cur_{f}") for f in FIELDS} | {"head": smp.cur_annotation_id}
    return Undo(ann, target, current)


@dataclass
class HistoryEntry:
    annotation_id: int
    source: str
    annotator: str | None
    created_at: Any
    before: dict[str, Any] | None
    after: dict[str, Any]
    note: str
    undoes_id: int | None = None  # this row undid that annotation
    prediction_id: int | None = None  # the model prediction the annotator accepted or corrected


def label_history(session: Session, sample_id: int) -> list[HistoryEntry]:
    """Every annotation of a sample, newest first, with what it replaced."""
    anns = list(session.scalars(select(Annotation).where(Annotation.sample_id == sample_id)
                                .order_by(Annotation.id.desc())))
    by_id = {a.id: a for a in anns}
    out = []
    for a in anns:
        prev = by_id.get(a.supersedes_id) if a.supersedes_id else None
        out.append(HistoryEntry(
            a.id, a.source, a.annotator.name if a.annotator else None, a.created_at,
            {f: getattr(prev, f) for f in FIELDS} if prev else None,
            {f: getattr(a, f) for f in FIELDS}, a.note, a.undoes_id, a.prediction_id))
    return out


@dataclass
class LabelView:
    """What an editor of one sample needs: its current label and head, the newest model
    prediction (the one a save is based on), and the latest history."""
    sample: dict[str, Any]  # id, dataset_id, crop_path, source, sources, head and every label field
    prediction: dict[str, Any] | None  # id, emotion, confidence, valence, arousal, stress, flags, outputs
    history: list[HistoryEntry]


def label_view(session: Session, sample_id: int, *, history: int = 6) -> LabelView | None:
    """The editor's view of a sample; None when it does not exist."""
    smp = session.get(Sample, sample_id)
    if smp is None:
        return None
    sample = {"id": smp.id, "dataset_id": smp.dataset_id, "crop_path": smp.crop_path,
              "source": smp.cur_source, "sources": smp.cur_sources or {}, "head": smp.cur_annotation_id,
              **{f: getattr(smp, f"cur_{f}") for f in FIELDS}}
    pred = session.scalars(select(Prediction).where(Prediction.sample_id == sample_id)
                           .order_by(Prediction.id.desc()).limit(1)).first()
    prediction = None if pred is None else {
        "id": pred.id, "emotion": pred.emotion, "confidence": pred.confidence, "flags": pred.flags or {},
        "model_version": pred.model_version, "outputs": pred.outputs or {},
        **{f: getattr(pred, f) for f in ("valence", "arousal", "stress")}}
    return LabelView(sample, prediction, label_history(session, sample_id)[:history])
