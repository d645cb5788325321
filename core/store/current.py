"""The cached current label of samples (samples.cur_*, sample_categories): the one place that writes it.

Per field, the current value is the newest value of the best source (human > imported > derived)
among rows not undone; the fields are the label columns and, inside `targets`, each named target
(`target:<name>`), so a trait edit supersedes only that trait. The head (cur_annotation_id, the
base an edit names) is the newest such row of the best source that carries a value, so an undo
row or an undone edit is never the head. The current multi-label categories and the dominant
class of the current distribution are kept in sample_categories (indexed category filters).
Importers (`add_samples`, `append_labels`), edits and undo (`move_head`) all write through here.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.store.consensus import apply_consensus, task_label_ids
from core.store.models import SOURCE_RANK, Annotation, Sample, SampleCategory

# the label columns of annotations (and samples.cur_<column>); `targets` holds one field per name
FIELDS = ("emotion", "emotions", "distribution", "valence", "arousal", "dominance", "stress", "targets")
SCALAR_FIELDS = tuple(f for f in FIELDS if f != "targets")
TARGET_PREFIX = "target:"
ANN_COLUMNS = ("sample_id", "source", "raw", *FIELDS, "supersedes_id", "undoes_id")
IN_CHUNK = 5000  # ids per IN (...); SQLite allows 32766 variables, PostgreSQL 65535
INSERT_CHUNK = 20000  # rows per executemany
CUR_KEYS = ("cur_annotation_id", *(f"cur_{f}" for f in FIELDS), "cur_source", "cur_annotator_id",
            "cur_sources")


class LabelRow:
    """A label row as compute_current reads it, from a dict (rows not yet inserted have id 0)."""

    __slots__ = ("id", "sample_id", "source", *FIELDS, "annotator_id", "undoes_id")

    def __init__(self, row: dict[str, Any], id: int = 0):  # noqa: A002
        self.id, self.annotator_id = id, row.get("annotator_id")
        self.sample_id, self.source = row.get("sample_id"), row["source"]
        for f in FIELDS:
            setattr(self, f, row.get(f))
        self.undoes_id = row.get("undoes_id")


def head_key(a: Any) -> tuple[int, int]:
    return SOURCE_RANK[a.source], a.id


def has_value(a: Any) -> bool:
    return any(getattr(a, f) is not None for f in SCALAR_FIELDS) or bool(a.targets)


def field_names(a: Any) -> list[str]:
    """The per-field names a row sets: its label columns and `target:<name>` per target."""
    names = [f for f in SCALAR_FIELDS if getattr(a, f) is not None]
    return names + [TARGET_PREFIX + k for k, v in (a.targets or {}).items() if v is not None]


def compute_current(annotations: Iterable[Any], task_ids: AbstractSet[int] = frozenset()) -> dict[str, Any]:
    """The cur_* values of a sample from its annotations (ORM objects or rows with the columns);
    `task_ids`: those given for a labelling task (their consensus rule: core/store/consensus.py)."""
    ordered = sorted(annotations, key=head_key, reverse=True)
    undone = {a.undoes_id for a in ordered if a.undoes_id is not None}
    live = [a for a in ordered if a.id not in undone and has_value(a)]
    cur: dict[str, Any] = {f"cur_{f}": None for f in FIELDS}
    targets: dict[str, float] = {}
    sources: dict[str, str] = {}
    for a in live:
        for f in SCALAR_FIELDS:
            value = getattr(a, f)
            if value is not None and f not in sources:
                cur[f"cur_{f}"], sources[f] = value, a.source
        for name, value in (a.targets or {}).items():
            if value is not None and TARGET_PREFIX + name not in sources:
                targets[name], sources[TARGET_PREFIX + name] = value, a.source
    head = live[0] if live else None
    cur.update(cur_targets=targets or None, cur_annotation_id=head.id if head else None,
               cur_source=head.source if head else None,
               cur_annotator_id=head.annotator_id if head else None, cur_sources=sources or None)
    apply_consensus(cur, live, task_ids)  # several annotators of a task: their consensus per field
    return cur


def dominant(distribution: dict[str, float] | None) -> str | None:
    """The class with the highest probability (the first one on a tie); None for {} or None."""
    if not distribution:
        return None
    return max(distribution, key=lambda k: distribution[k])


def categories(cur: dict[str, Any]) -> list[str]:
    """What sample_categories holds for a current label: its multi-label set and the dominant
    class of its distribution."""
    out = list(cur.get("cur_emotions") or [])
    top = dominant(cur.get("cur_distribution"))
    if top is not None and top not in out:
        out.append(top)
    return out


def _write_categories(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the sample_categories rows of these samples (`_id`, `dataset_id` and cur_* per row)."""
    cats = [{"dataset_id": r["dataset_id"], "category": c, "sample_id": r["_id"]}
            for r in rows for c in categories(r)]
    conn = session.connection()
    for i in range(0, len(cats), INSERT_CHUNK):
        conn.execute(insert(SampleCategory.__table__), cats[i:i + INSERT_CHUNK])


def refresh_current(session: Session, sample_ids: Sequence[int]) -> None:
    """Recompute the cached current label of these samples from their annotations."""
    if not sample_ids:
        return
    # plain rows (what compute_current reads), not ORM objects: large imports relabel here
    cols = [Annotation.id, Annotation.sample_id, Annotation.source, Annotation.annotator_id,
            Annotation.undoes_id, *(getattr(Annotation, f) for f in FIELDS)]
    by_sample: dict[int, list[Any]] = {i: [] for i in sample_ids}
    for chunk in range(0, len(sample_ids), IN_CHUNK):
        ids = list(sample_ids[chunk:chunk + IN_CHUNK])
        for a in session.execute(select(*cols).where(Annotation.sample_id.in_(ids))):
            by_sample[a.sample_id].append(a)
    task_ids = task_label_ids(session, list(by_sample))
    rows = [{"_id": sid, **compute_current(anns, task_ids)} for sid, anns in by_sample.items()]
    table = Sample.__table__
    stmt = (update(table).where(table.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in CUR_KEYS}))
    conn = session.connection()
    for chunk in range(0, len(rows), INSERT_CHUNK):
        conn.execute(stmt, rows[chunk:chunk + INSERT_CHUNK])
    _sync_loaded(session, rows)
    _refresh_categories(session, rows)


def _refresh_categories(session: Session, rows: list[dict[str, Any]]) -> None:
    """Replace the sample_categories rows of refreshed samples (an indexed delete by sample)."""
    conn = session.connection()
    ids = [r["_id"] for r in rows]
    for i in range(0, len(ids), IN_CHUNK):
        conn.execute(delete(SampleCategory).where(SampleCategory.sample_id.in_(ids[i:i + IN_CHUNK])))
    with_cats = [r for r in rows if categories(r)]
    ds: dict[int, int] = {}
    for i in range(0, len(with_cats), IN_CHUNK):
        ds.update(session.execute(select(Sample.id, Sample.dataset_id).where(
            Sample.id.in_([r["_id"] for r in with_cats[i:i + IN_CHUNK]]))).all())
    _write_categories(session, [dict(r, dataset_id=ds[r["_id"]]) for r in with_cats])


def _sync_loaded(session: Session, rows: list[dict[str, Any]]) -> None:
    """Give Sample objects already loaded in the session the values just written (what an ORM
    bulk UPDATE by primary key does), so callers holding them see the new current label."""
    if not session.identity_map:
        return
    for row in rows:
        obj = session.identity_map.get(identity_key(Sample, row["_id"]))
        if obj is None:
            continue
        for key, value in row.items():
            if key != "_id":
                set_committed_value(obj, key, value)


def move_head(session: Session, sample_id: int, base_id: int | None, new_id: int) -> bool:
    """Put new_id on top of base_id only if the head is still base_id (one conditional UPDATE,
    so two concurrent editors cannot both win), then recompute the current label.

    False when the head moved on (the caller reports the conflict); nothing is written then.
    """
    base_cond = Sample.cur_annotation_id.is_(None) if base_id is None else Sample.cur_annotation_id == base_id
    moved = session.execute(update(Sample).where(Sample.id == sample_id, base_cond)
                            .values(cur_annotation_id=new_id)
                            .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        return False
    refresh_current(session, [sample_id])
    return True


def insert_annotations(session: Session, rows: list[dict[str, Any]]) -> None:
    """Core executemany (no RETURNING); every row gets the same keys (missing fields are NULL)."""
    conn = session.connection()
    for i in range(0, len(rows), INSERT_CHUNK):
        conn.execute(insert(Annotation.__table__),
                     [{c: r.get(c) for c in ANN_COLUMNS} for r in rows[i:i + INSERT_CHUNK]])


def append_labels(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append imported/derived label rows to existing samples and refresh their current label."""
    insert_annotations(session, rows)
    refresh_current(session, list(dict.fromkeys(r["sample_id"] for r in rows)))


def _uniform_runs(rows: list[dict]):
    """Consecutive runs of rows with the same keys, at most INSERT_CHUNK long (one executemany
    needs one key set)."""
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or i - start >= INSERT_CHUNK or rows[i].keys() != rows[start].keys():
            yield rows[start:i]
            start = i


def add_samples(session: Session, dataset_id: int, samples: list[dict[str, Any]],
                labels: list[list[dict[str, Any]]]) -> list[int]:
    """Insert new samples of one dataset (`crop_sha256` unique in it) with their label rows
    (labels[i] for samples[i], at most one row per source); returns their ids in order.

    Bulk path (1M-row imports): Core executemany without RETURNING; each sample's current label
    is computed before its INSERT, and the heads are set afterwards by one set-based UPDATE.
    """
    if not samples:
        return []
    conn = session.connection()
    rows = []
    for smp, labs in zip(samples, labels):
        row = dict(smp, dataset_id=dataset_id)
        if labs:  # unlabelled samples keep every cur_* column NULL (cur_sources SQL NULL too)
            cur = compute_current(LabelRow(r) for r in labs)  # one row per source: ids not needed
            cur.pop("cur_annotation_id")
            row.update(cur)
        rows.append(row)
    before = int(session.execute(select(func.max(Sample.id))).scalar() or 0)
    for batch in _uniform_runs(rows):  # in order: ids follow the given order
        conn.execute(insert(Sample.__table__), batch)
    ids = dict(conn.execute(select(Sample.crop_sha256, Sample.id).where(
        Sample.dataset_id == dataset_id, Sample.id > before)).all())
    out = [ids[r["crop_sha256"]] for r in rows]
    _write_categories(session, [dict(r, _id=sid) for sid, r in zip(out, rows) if categories(r)])
    flat = [dict(r, sample_id=sid) for sid, labs in zip(out, labels) for r in labs]
    if flat:
        ann_before = int(session.execute(select(func.max(Annotation.id))).scalar() or 0)
        insert_annotations(session, flat)
        # new samples only (head still NULL): their one new row of the head's source is the head
        # (UPDATE ... FROM: a join, in PostgreSQL and SQLite >= 3.33 alike)
        conn.execute(text(
            "UPDATE samples SET cur_annotation_id = a.id FROM annotations AS a "
            "WHERE a.sample_id = samples.id AND a.source = samples.cur_source AND a.id > :ann "
            "AND samples.id > :before AND samples.dataset_id = :ds AND samples.cur_annotation_id IS NULL"),
            {"before": before, "ds": dataset_id, "ann": ann_before})
    return out
