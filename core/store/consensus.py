"""The consensus of several annotators' task labels, one documented rule per label field.

When it applies (core/store/current.py calls `apply_consensus`): only to labels given through a
labelling task (rows listed in `task_labels`, written by core.store.tasks.submit_task_label),
and per field only while the newest human value of that field is such a task label. So a
project without tasks behaves exactly as before, and a later ordinary edit (an adjudication in
Relabel) wins over the consensus as any newer human edit does. Each annotator counts once, with
their newest task value of the field (undone rows are already left out). With one annotator
the value is theirs (source "human"); with n >= 2 it is the consensus, source "consensus:n".

Rules per field:
- `emotion` (single label): majority vote; a tie among the most frequent classes leaves the
  emotion unset (training masks it, the "unlabelled" queue shows it for adjudication) and the
  source reads "consensus:n:tie".
- `emotions` (multi-label): a category is in the consensus when more than half of the
  annotators chose it (per-category majority; exactly half is out), in class-name order.
- `distribution`: element-wise mean over the union of classes (a class someone left out counts
  0), renormalised to sum 1; all-empty stays {} ("no emotion").
- `valence`, `arousal`, `dominance`, `stress`, each named target (`target:<name>`): the mean.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store.models_tasks import TaskLabel

SCALARS = ("valence", "arousal", "dominance", "stress")
TIE = "tie"
IN_CHUNK = 5000


def majority(values: Sequence[str]) -> tuple[str | None, bool]:
    """The most frequent value and whether the top was tied (then None)."""
    counts = Counter(values).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return None, True
    return counts[0][0], False


def category_majority(sets: Sequence[Sequence[str]]) -> list[str]:
    """Categories chosen by more than half of the annotators."""
    counts = Counter(c for chosen in sets for c in set(chosen))
    return sorted(c for c, n in counts.items() if n * 2 > len(sets))


def mean_distribution(dists: Sequence[dict[str, float]]) -> dict[str, float]:
    """Element-wise mean of class distributions, renormalised; {} when every one is empty."""
    classes = sorted({c for d in dists for c in d})
    mean = {c: fmean(float(d.get(c, 0.0)) for d in dists) for c in classes}
    total = sum(mean.values())
    return {c: v / total for c, v in mean.items()} if total > 0 else {}


def combine(field: str, values: Sequence[Any]) -> tuple[Any, bool]:
    """The consensus value of one field from one value per annotator, and whether it is a tie."""
    if field == "emotion":
        return majority(values)
    if field == "emotions":
        return category_majority(values), False
    if field == "distribution":
        return mean_distribution(values), False
    return fmean(float(v) for v in values), False


def field_value(row: Any, field: str) -> Any:
    """A label row's value of one field (`target:<name>`: that target)."""
    if field.startswith("target:"):
        return (getattr(row, "targets", None) or {}).get(field.split(":", 1)[1])
    return getattr(row, field, None)


def label_fields(rows: Sequence[Any]) -> list[str]:
    """The per-field names these rows can carry: the label columns and `target:<name>` per target."""
    names = ["emotion", "emotions", "distribution", *SCALARS]
    targets = sorted({t for r in rows for t in (getattr(r, "targets", None) or {})})
    return names + [f"target:{t}" for t in targets]


def apply_consensus(cur: dict[str, Any], live: Iterable[Any], task_ids: set[int] | frozenset[int]) -> None:
    """Replace, in `cur` (compute_current's cur_* dict), each field whose newest human value is a
    task label given by several annotators with their consensus; marks cur_sources."""
    if not task_ids:
        return
    humans = sorted((a for a in live if a.source == "human"), key=lambda a: a.id, reverse=True)
    sources = dict(cur.get("cur_sources") or {})
    for field in label_fields(humans):
        carrying = [a for a in humans if field_value(a, field) is not None]
        if not carrying or carrying[0].id not in task_ids:
            continue  # no human value, or a newer ordinary edit decides this field
        newest: dict[Any, Any] = {}
        for a in carrying:
            if a.id in task_ids:
                newest.setdefault(a.annotator_id, field_value(a, field))
        if len(newest) < 2:
            continue
        value, tie = combine(field.split(":", 1)[0], list(newest.values()))
        _store(cur, field, value)
        sources[field] = f"consensus:{len(newest)}" + (f":{TIE}" if tie else "")
    cur["cur_sources"] = sources or None


def _store(cur: dict[str, Any], field: str, value: Any) -> None:
    if field.startswith("target:"):
        cur["cur_targets"] = dict(cur.get("cur_targets") or {}) | {field.split(":", 1)[1]: value}
    else:
        cur[f"cur_{field}"] = value


def consensus_count(source: str | None) -> int:
    """How many annotators a cur_sources entry says a value came from (1 for a single source)."""
    if source and source.startswith("consensus:"):
        return int(source.split(":")[1])
    return 1 if source else 0


def task_label_ids(session: Session, sample_ids: Sequence[int]) -> set[int]:
    """The annotation ids among these samples' labels that were given for a task."""
    out: set[int] = set()
    for i in range(0, len(sample_ids), IN_CHUNK):
        out.update(session.scalars(select(TaskLabel.annotation_id).where(
            TaskLabel.sample_id.in_(list(sample_ids[i:i + IN_CHUNK])))))
    return out
