"""Writes validated pending samples to the store in bulk: samples, imported/derived labels, features.

Builds plain rows (samples, label rows, derived labels) and hands them to core.store.current,
which owns every write of the current label (bulk: `add_samples`; existing samples:
`append_labels`). Existing samples' labels are read as plain rows, not ORM objects.
"""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ingest.features import store_features
from core.ingest.records import PendingSample
from core.rules import DerivationRules
from core.store.clips import add_clips
from core.store.current import FIELDS, add_samples, append_labels
from core.store.models import Annotation, Dataset, Media, Sample

CHUNK = 500
IN_CHUNK = 5000  # ids per IN (...) lookup; SQLite allows 32766 variables, PostgreSQL 65535
LABEL_FIELDS = FIELDS  # emotion, emotions, distribution, valence, arousal, dominance, stress, targets
BULK_ROWS = 5000  # from this many rows on, SQLite gets a larger page cache for the load
BULK_CACHE_KIB = 256 * 1024


_RULES_KEY = object()  # derived_cache entry of the rules' raw dict


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


def _sample_row(p: PendingSample, media: dict[str, int]) -> dict[str, Any]:
    return {"crop_sha256": p.crop_sha256, "crop_path": p.crop_path,
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
            row.update(raw={"rules": rules.to_dict() if rules else None},
                       supersedes_id=old.id, undoes_id=old.id)
            new = [row]
        rows += new
    return rows


def _store_features(session: Session, pending: list[tuple[int, PendingSample]]) -> None:
    store_features(session, pending)  # aligned to each kind's declared names (core.ingest.features)


def _store_clips(session: Session, items: list[tuple[int, PendingSample]], media: dict[str, int]) -> None:
    """The clip rows of clip samples (a sample that has its clip already keeps it)."""
    add_clips(session, [{"sample_id": sid, "media_id": media.get(p.media_sha256) if p.media_sha256 else None,
                         **p.clip} for sid, p in items if p.clip is not None])


def _insert_new(session: Session, dataset_id: int, new: list[PendingSample], media: dict[str, int],
                rules: DerivationRules | None) -> list[tuple[int, PendingSample]]:
    """Insert new samples with their label rows (the store sets their current label)."""
    derived_cache: dict = {}
    labels = [_label_rows(0, p, rules, derived_cache) for p in new]  # sample_id set by the store
    ids = add_samples(session, dataset_id, [_sample_row(p, media) for p in new], labels)
    return list(zip(ids, new))


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
        rederive: list[tuple[int, PendingSample]] = []
        label_rows: list[dict] = []
        for sha, sid in existing.items():
            p = unique[sha]
            old = latest.get(sid)
            if p.has_label and (old is None or any(getattr(old, f) != getattr(p, f) for f in LABEL_FIELDS)):
                row = _label_rows(sid, p, None)[0]
                row["supersedes_id"] = old.id if old else None
                label_rows.append(row)
                relabelled += 1
                if rules is not None and p.emotion is not None and (old is None or old.emotion != p.emotion):
                    rederive.append((sid, p))
        label_rows += _rederived_rows(session, rederive, rules)
        append_labels(session, label_rows)
        _store_features(session, inserted)
        _store_clips(session, [*inserted, *((sid, unique[sha]) for sha, sid in existing.items())], media)
    return {"added": len(inserted), "existing": len(existing), "relabelled": relabelled}
