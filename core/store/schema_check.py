"""Which stored labels of a dataset a new label schema would orphan (set_label_schema refuses then)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.label_schema import LabelSchema
from core.store.models import Annotation, Sample

STREAM_ROWS = 10000


def _ann(dataset_id: int, *cols: Any):
    return (select(*cols).select_from(Annotation).join(Sample, Sample.id == Annotation.sample_id)
            .where(Sample.dataset_id == dataset_id))


def _json_values(session: Session, dataset_id: int, col: Any):
    """The non-NULL values of a JSON label column, streamed (PostgreSQL json has no DISTINCT)."""
    stmt = _ann(dataset_id, col).where(col.is_not(None)).execution_options(yield_per=STREAM_ROWS)
    yield from session.scalars(stmt)


def _mode_problem(schema: LabelSchema, field: str, mode: str, names: set[str], n: int) -> list[str]:
    if not n:
        return []
    if schema.emotion_mode != mode:
        return [f"{n} stored {field} label(s) need emotion mode {mode!r}, not {schema.emotion_mode!r}"]
    if unknown := names - set(schema.classes):
        return [f"stored {field} labels use classes {sorted(unknown)[:5]} the new class list lacks"]
    return []


def orphaned_labels(session: Session, dataset_id: int, schema: LabelSchema) -> list[str]:
    """One line per kind of stored label (any annotation, history included) the schema cannot hold."""
    problems: list[str] = []
    emotions = set(session.scalars(_ann(dataset_id, Annotation.emotion).where(
        Annotation.emotion.is_not(None)).distinct()))
    problems += _mode_problem(schema, "emotion", "single", emotions, len(emotions))
    for field, mode in (("emotions", "multi"), ("distribution", "distribution")):
        names: set[str] = set()
        n = 0
        for value in _json_values(session, dataset_id, getattr(Annotation, field)):
            names.update(value)
            n += 1
        problems += _mode_problem(schema, field, mode, names, n)
    for field, allowed in (("dominance", schema.dominance), ("stress", schema.stress)):
        count = session.scalar(_ann(dataset_id, func.count()).where(getattr(Annotation, field).is_not(None)))
        if count and not allowed:
            problems.append(f"{count} stored {field} value(s) but the new schema has no {field}")
    problems += _target_problems(session, dataset_id, schema)
    return problems


def _target_problems(session: Session, dataset_id: int, schema: LabelSchema) -> list[str]:
    ranges: dict[str, tuple[float, float]] = {}
    for value in _json_values(session, dataset_id, Annotation.targets):
        for name, x in value.items():
            if x is None:
                continue
            lo, hi = ranges.get(name, (x, x))
            ranges[name] = (min(lo, x), max(hi, x))
    declared = {t.name: t for t in schema.targets}
    out = []
    for name, (lo, hi) in sorted(ranges.items()):
        spec = declared.get(name)
        if spec is None:
            out.append(f"stored target {name!r} is not declared")
        elif lo < spec.low or hi > spec.high:
            out.append(f"stored {name} values span [{lo:g}, {hi:g}], outside [{spec.low:g}, {spec.high:g}]")
    return out
