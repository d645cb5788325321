"""Writes validated pending samples to the store in bulk: samples, imported/derived labels, features.

Bulk path (1M-row imports): rows go through Core executemany without RETURNING (SQLAlchemy's
sorted insertmanyvalues RETURNING was most of an import's time), ids are looked up afterwards
by what identifies a row (a sample by (dataset, crop hash), a new sample's annotation by
(sample, source): each new sample has at most one imported and one derived row), and a new
sample's cached current label is computed before its INSERT, so only cur_annotation_id is set
afterwards. Existing samples' labels are read as plain rows, not ORM objects.
"""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from core.ingest.features import store_features
from core.ingest.records import PendingSample
from core.rules import DerivationRules
from core.store.labels import compute_current, refresh_current
from core.store.models import Annotation, Dataset, Media, Sample

CHUNK = 500
IN_CHUNK = 5000  # ids per IN (...) lookup; SQLite allows 32766 variables, PostgreSQL 65535
INSERT_CHUNK = 20000  # rows per executemany
LABEL_FIELDS = ("emotion", "valence", "arousal", "stress")
ANN_COLUMNS = ("sample_id", "source", "raw", "emotion", "valence", "arousal", "stress", "supersedes_id")
BULK_ROWS = 5000  # from this many rows on, SQLite gets a larger page cache for the load
BULK_CACHE_KIB = 256 * 1024


_RULES_KEY = object()  # derived_cache entry of the rules' raw dict


class _Ann:
    """A label row as compute_current reads it (id, source, fields, raw, annotator_id)."""

    __slots__ = ("id", "sample_id", "source", "raw", "emotion", "valence", "arousal", "stress",
                 "annotator_id")

    def __init__(self, id: int, row: dict[str, Any]):  # noqa: A002
        self.id, self.annotator_id = id, None
        self.sample_id, self.source, self.raw = row["sample_id"], row["source"], row.get("raw")
        self.emotion, self.valence = row.get("emotion"), row.get("valence")
        self.arousal, self.stress = row.get("arousal"), row.get("stress")


@contextmanager
def _bulk_pragmas(session: Session, rows: int):
    """SQLite: a 256 MiB page cache while a large batch is written (the unique crop-hash index
    takes random inserts; the default 2 MiB cache thrashes past ~100k rows); restored after."""
    conn = session.connection()
    if rows < BULK_ROWS or conn.dialect.name != "sqlite":
        yield
        return
    old = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
    conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:  # on the DB-API connection: works after a failed statement, raises nothing new
        try:
            conn.connection.driver_connection.execute(f"PRAGMA cache_size={old}")
        except Exception:  # noqa: BLE001 - the import's own error (if any) is what matters
            pass


def _existing(session: Session, dataset_id: int, shas: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(shas), IN_CHUNK):
        chunk = list(shas[i:i + IN_CHUNK])
        found.update(session.execute(select(Sample.crop_sha256, Sample.id).where(
            Sample.dataset_id == dataset_id, Sample.crop_sha256.in_(chunk))).all())
    return found


def _latest_imported(session: Session, sample_ids: list[int], source: str = "imported") -> dict[int, Any]:
    """The newest annotation of `source` per sample, as rows (id, sample_id and label fields)."""
    cols = [Annotation.id, Annotation.sample_id, *(getattr(Annotation, f) for f in LABEL_FIELDS)]
    latest: dict[int, Any] = {}
    for i in range(0, len(sample_ids), IN_CHUNK):
        for a in session.execute(select(*cols).where(
                Annotation.sample_id.in_(sample_ids[i:i + IN_CHUNK]), Annotation.source == source)
                .order_by(Annotation.id)):
            latest[a.sample_id] = a
    return latest


def _media_ids(session: Session, shas: set[str]) -> dict[str, int]:
    if not shas:
        return {}
    return dict(session.execute(select(Media.sha256, Media.id).where(Media.sha256.in_(shas))).all())


def _sample_row(dataset_id: int, p: PendingSample, media: dict[str, int]) -> dict[str, Any]:
    return {"dataset_id": dataset_id, "crop_sha256": p.crop_sha256, "crop_path": p.crop_path,
            "source_path": p.source_path, "subject": p.subject, "split": p.split, "flag": p.flag,
            "quality": p.quality, "bbox": p.bbox, "keypoints": p.keypoints,
            "media_id": media.get(p.media_sha256) if p.media_sha256 else None,
            "frame_index": p.frame_index, "timestamp": p.timestamp}


def _label_rows(sample_id: int, p: PendingSample, rules: DerivationRules | None,
                derived_cache: dict | None = None) -> list[dict]:
    rows = []
    if p.has_label:
        rows.append({"sample_id": sample_id, "source": "imported", "raw": p.raw,
                     **{f: getattr(p, f) for f in LABEL_FIELDS}})
    if rules is not None and p.emotion is not None:
        if derived_cache is None:
            derived_all = rules.derive(p.emotion)
        else:  # the rules are fixed for one commit: derive each emotion once
            derived_all = derived_cache.get(p.emotion)
            if derived_all is None:
                derived_all = derived_cache[p.emotion] = rules.derive(p.emotion)
        derived = {k: v for k, v in derived_all.items() if getattr(p, k) is None}
        if any(v is not None for v in derived.values()):
            if derived_cache is None:
                raw = {"rules": rules.to_dict()}
            else:
                raw = derived_cache.get(_RULES_KEY)
                if raw is None:
                    raw = derived_cache[_RULES_KEY] = {"rules": rules.to_dict()}
            rows.append({"sample_id": sample_id, "source": "derived",
                         "raw": raw, "emotion": None, **derived})
    return rows


def _rederived_rows(session: Session, items: list[tuple[int, PendingSample]],
                    rules: DerivationRules | None) -> list[dict]:
    """Derived labels for samples whose imported emotion changed: the new emotion's, replacing
    (undoing) the previous derived row so labels derived from the old emotion stop showing."""
    prev = _latest_imported(session, [sid for sid, _ in items], source="derived")
    rows = []
    for sid, p in items:
        new = _label_rows(sid, p, rules)[1:]
        old = prev.get(sid)
        if old is not None:
            row = new[0] if new else {"sample_id": sid, "source": "derived", "emotion": None,
                                      "valence": None, "arousal": None, "stress": None}
            row.update(raw={"rules": rules.to_dict() if rules else None, "undo": old.id},
                       supersedes_id=old.id)
            new = [row]
        rows += new
    return rows


def _store_features(session: Session, pending: list[tuple[int, PendingSample]]) -> None:
    store_features(session, pending)  # aligned to each kind's declared names (core.ingest.features)


def _max_id(session: Session, column) -> int:
    return int(session.execute(select(func.max(column))).scalar() or 0)


def _insert_annotations(session: Session, rows: list[dict]) -> None:
    """Core executemany (no RETURNING); every row gets the same keys (missing fields are NULL)."""
    conn = session.connection()
    table = Annotation.__table__
    for i in range(0, len(rows), INSERT_CHUNK):
        chunk = [{c: r.get(c) for c in ANN_COLUMNS} for r in rows[i:i + INSERT_CHUNK]]
        conn.execute(insert(table), chunk)


def _uniform_runs(rows: list[dict]):
    """Consecutive runs of rows with the same keys, at most INSERT_CHUNK long (one executemany
    needs one key set)."""
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or i - start >= INSERT_CHUNK or rows[i].keys() != rows[start].keys():
            yield rows[start:i]
            start = i


def _insert_new(session: Session, dataset_id: int, new: list[PendingSample], media: dict[str, int],
                rules: DerivationRules | None) -> list[tuple[int, PendingSample]]:
    """Insert new samples (current label cached in the same row) and their label rows."""
    if not new:
        return []
    conn = session.connection()
    derived_cache: dict = {}
    sample_rows, label_rows = [], []
    for i, p in enumerate(new):
        labels = _label_rows(i, p, rules, derived_cache)  # sample_id: position, for now
        label_rows.append(labels)
        row = _sample_row(dataset_id, p, media)
        if labels:  # unlabelled samples keep every cur_* column NULL (cur_sources SQL NULL too)
            cur = compute_current(_Ann(0, r) for r in labels)  # one row per source: ids not needed
            cur.pop("cur_annotation_id")
            row.update(cur)
        sample_rows.append(row)
    sample_before = _max_id(session, Sample.id)
    for batch in _uniform_runs(sample_rows):  # in order: ids follow the import's order
        conn.execute(insert(Sample.__table__), batch)
    ids: dict[str, int] = {}
    for sha, sid in conn.execute(select(Sample.crop_sha256, Sample.id).where(
            Sample.dataset_id == dataset_id, Sample.id > sample_before)):
        ids[sha] = sid
    inserted = [(ids[p.crop_sha256], p) for p in new]
    flat = []
    for (sid, _), labels in zip(inserted, label_rows):
        for row in labels:
            row["sample_id"] = sid
            flat.append(row)
    ann_before = _max_id(session, Annotation.id)
    _insert_annotations(session, flat)
    if not flat:
        return inserted
    if conn.dialect.name == "sqlite":
        # the write transaction (BEGIN IMMEDIATE) holds the database: every sample above
        # sample_before is ours, and its one annotation of its head source is ours too
        conn.execute(text(
            "UPDATE samples SET cur_annotation_id = (SELECT max(a.id) FROM annotations a "
            "WHERE a.sample_id = samples.id AND a.source = samples.cur_source) "
            "WHERE id > :before AND dataset_id = :ds AND cur_source IS NOT NULL"),
            {"before": sample_before, "ds": dataset_id})
    else:
        head_source = {sid: r["cur_source"] for (sid, _), r in zip(inserted, sample_rows)
                       if r.get("cur_source") is not None}
        heads = []
        for aid, sid, source in conn.execute(select(Annotation.id, Annotation.sample_id,
                                                    Annotation.source).where(Annotation.id > ann_before)):
            if head_source.get(sid) == source:
                heads.append({"_id": sid, "_ann": aid})
        stmt = (update(Sample.__table__).where(Sample.__table__.c.id == bindparam("_id"))
                .values(cur_annotation_id=bindparam("_ann")))
        for i in range(0, len(heads), INSERT_CHUNK):
            conn.execute(stmt, heads[i:i + INSERT_CHUNK])
    return inserted


def commit_samples(session: Session, dataset: Dataset, records: list[PendingSample], *,
                   rules: DerivationRules | None) -> dict[str, int]:
    """Insert new samples, append changed imported labels to existing ones; idempotent by crop hash."""
    unique: dict[str, PendingSample] = {}
    for p in records:
        unique.setdefault(p.crop_sha256, p)  # the same crop twice in one import is one sample
    with _bulk_pragmas(session, len(unique)):
        existing = _existing(session, dataset.id, list(unique))
        media = _media_ids(session, {p.media_sha256 for p in unique.values() if p.media_sha256})
        new = [p for sha, p in unique.items() if sha not in existing]
        inserted = _insert_new(session, dataset.id, new, media, rules)
        # existing samples: a new imported row only when the file's label differs from the last one
        relabelled = 0
        latest = _latest_imported(session, list(existing.values()))
        touched = []
        rederive: list[tuple[int, PendingSample]] = []
        label_rows: list[dict] = []
        for sha, sid in existing.items():
            p = unique[sha]
            old = latest.get(sid)
            if p.has_label and (old is None or any(getattr(old, f) != getattr(p, f) for f in LABEL_FIELDS)):
                row = _label_rows(sid, p, None)[0]
                row["supersedes_id"] = old.id if old else None
                label_rows.append(row)
                touched.append(sid)
                relabelled += 1
                if rules is not None and p.emotion is not None and (old is None or old.emotion != p.emotion):
                    rederive.append((sid, p))
        label_rows += _rederived_rows(session, rederive, rules)
        _insert_annotations(session, label_rows)
        refresh_current(session, touched)
        _store_features(session, inserted)
    return {"added": len(inserted), "existing": len(existing), "relabelled": relabelled}
