"""Append-only labels: current label derivation, human edits with conflict detection, undo, history."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from core.store.models import SOURCE_RANK, Annotation, Annotator, Sample

FIELDS = ("emotion", "valence", "arousal", "stress")
REFRESH_CHUNK = 5000  # sample ids per IN (...) when recomputing current labels


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


def head_key(a: Annotation) -> tuple[int, int]:
    return SOURCE_RANK[a.source], a.id


def compute_current(annotations: Iterable[Annotation]) -> dict[str, Any]:
    """Current label from a sample's annotations: per field, the newest value of the best source
    (human > imported > derived); the head is the newest annotation of the best source."""
    ordered = sorted(annotations, key=head_key, reverse=True)
    undone = _undone_ids(ordered)
    cur: dict[str, Any] = {f"cur_{f}": None for f in FIELDS}
    sources: dict[str, str] = {}
    for a in ordered:
        if a.id in undone:
            continue
        for f in FIELDS:
            value = getattr(a, f)
            if value is not None and f not in sources:
                cur[f"cur_{f}"], sources[f] = value, a.source
    head = ordered[0] if ordered else None
    cur.update(cur_annotation_id=head.id if head else None, cur_source=head.source if head else None,
               cur_annotator_id=head.annotator_id if head else None, cur_sources=sources or None)
    return cur


def refresh_current(session: Session, sample_ids: Sequence[int]) -> None:
    """Recompute the cached current label of these samples from their annotations."""
    if not sample_ids:
        return
    # plain rows (what compute_current reads), not ORM objects: 1M-sample imports relabel here
    cols = [Annotation.id, Annotation.sample_id, Annotation.source, Annotation.annotator_id,
            Annotation.raw, *(getattr(Annotation, f) for f in FIELDS)]
    by_sample: dict[int, list[Any]] = {i: [] for i in sample_ids}
    for chunk in range(0, len(sample_ids), REFRESH_CHUNK):
        ids = list(sample_ids[chunk:chunk + REFRESH_CHUNK])
        for a in session.execute(select(*cols).where(Annotation.sample_id.in_(ids))):
            by_sample[a.sample_id].append(a)
    rows = [{"_id": sid, **compute_current(anns)} for sid, anns in by_sample.items()]
    table = Sample.__table__
    stmt = (update(table).where(table.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in rows[0] if k != "_id"}))
    conn = session.connection()
    for chunk in range(0, len(rows), 20000):
        conn.execute(stmt, rows[chunk:chunk + 20000])
    _sync_loaded(session, rows)


def _sync_loaded(session: Session, rows: list[dict[str, Any]]) -> None:
    """Give Sample objects already loaded in the session the values just written (what an ORM
    bulk UPDATE by primary key does), so callers holding them see the new current label."""
    from sqlalchemy.orm.attributes import set_committed_value

    if not session.identity_map:
        return
    for row in rows:
        obj = session.identity_map.get(identity_key(Sample, row["_id"]))
        if obj is None:
            continue
        for key, value in row.items():
            if key != "_id":
                set_committed_value(obj, key, value)


def _check(emotion: Any, valence: Any, arousal: Any, stress: Any, classes: Sequence[str] | None):
    for name, v, lo in (("valence", valence, -1.0), ("arousal", arousal, -1.0), ("stress", stress, 0.0)):
        if v is not UNSET and v is not None and not (lo <= float(v) <= 1.0):
            raise LabelValueError(f"{name} {v} is outside {lo:g}..1")
    if classes is not None and emotion not in (UNSET, None) and emotion not in classes:
        raise LabelValueError(f"emotion {emotion!r} is not one of {', '.join(classes)}")


def _move_head(session: Session, sample_id: int, base_id: int | None, new_id: int) -> None:
    """Make new_id the head only if the head is still base_id (one conditional UPDATE, so two
    concurrent editors cannot both win); then refresh the cached current label."""
    base_cond = Sample.cur_annotation_id.is_(None) if base_id is None else Sample.cur_annotation_id == base_id
    moved = session.execute(update(Sample).where(Sample.id == sample_id, base_cond)
                            .values(cur_annotation_id=new_id)
                            .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        if session.get(Sample, sample_id) is None:
            raise LookupError(f"sample {sample_id} does not exist")
        head_id = session.scalar(select(Sample.cur_annotation_id).where(Sample.id == sample_id))
        raise ConflictError(sample_id, base_id, session.get(Annotation, head_id) if head_id else None)
    refresh_current(session, [sample_id])


def edit_label(session: Session, sample_id: int, *, base_annotation_id: int | None, annotator: str,
               emotion: Any = UNSET, valence: Any = UNSET, arousal: Any = UNSET,
               stress: Any = UNSET, note: str = "", classes: Sequence[str] | None = None,
               prediction_id: int | None = None) -> Annotation:
    """Save a human label based on `base_annotation_id` (the head the editor saw).

    Fields left UNSET keep their current value. Raises ConflictError when the head moved on.
    """
    _check(emotion, valence, arousal, stress, classes)
    who = get_or_create_annotator(session, annotator)
    values = {f: (None if v is UNSET else v)
              for f, v in zip(FIELDS, (emotion, valence, arousal, stress))}
    if all(v is None for v in values.values()):
        raise LabelValueError("an edit must set at least one of emotion, valence, arousal, stress")
    ann = Annotation(sample_id=sample_id, annotator_id=who.id, source="human",
                     supersedes_id=base_annotation_id, note=note, prediction_id=prediction_id,
                     **values)
    session.add(ann)
    session.flush()
    _move_head(session, sample_id, base_annotation_id, ann.id)
    return ann


def _undone_ids(annotations: Iterable[Annotation]) -> set[int]:
    return {a.raw["undo"] for a in annotations if a.raw and "undo" in a.raw}


def undo_last(session: Session, sample_id: int, *, base_annotation_id: int | None,
              annotator: str) -> Annotation:
    """Undo the newest human edit still in effect: a new row marks it undone, so the labels it
    replaced show again. Nothing is deleted; `base_annotation_id` guards against conflicts."""
    anns = list(session.scalars(select(Annotation).where(Annotation.sample_id == sample_id)))
    undone = _undone_ids(anns)
    active = [a for a in anns if a.source == "human" and a.id not in undone
              and not (a.raw and "undo" in a.raw)]
    if not active:
        raise LabelValueError(f"sample {sample_id} has no human edit to undo")
    target = max(active, key=lambda a: a.id)
    ann = Annotation(sample_id=sample_id, source="human", supersedes_id=target.id,
                     annotator_id=get_or_create_annotator(session, annotator).id,
                     raw={"undo": target.id}, note=f"undo of #{target.id}")
    session.add(ann)
    session.flush()
    _move_head(session, sample_id, base_annotation_id, ann.id)
    return ann


@dataclass
class HistoryEntry:
    annotation_id: int
    source: str
    annotator: str | None
    created_at: Any
    before: dict[str, Any] | None
    after: dict[str, Any]
    note: str


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
            {f: getattr(a, f) for f in FIELDS}, a.note))
    return out
