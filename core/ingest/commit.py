"""Writes validated pending samples to the store in bulk: samples, imported/derived labels, features."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core.ingest.records import PendingSample
from core.rules import DerivationRules
from core.store.labels import compute_current, refresh_current
from core.store.models import Annotation, Dataset, Feature, FeatureKind, Media, Sample

CHUNK = 500
LABEL_FIELDS = ("emotion", "valence", "arousal", "stress")


def _existing(session: Session, dataset_id: int, shas: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(shas), CHUNK):
        chunk = list(shas[i:i + CHUNK])
        found.update(session.execute(select(Sample.crop_sha256, Sample.id).where(
            Sample.dataset_id == dataset_id, Sample.crop_sha256.in_(chunk))).all())
    return found


def _latest_imported(session: Session, sample_ids: list[int], source: str = "imported"
                     ) -> dict[int, Annotation]:
    latest: dict[int, Annotation] = {}
    for i in range(0, len(sample_ids), CHUNK):
        for a in session.scalars(select(Annotation).where(
                Annotation.sample_id.in_(sample_ids[i:i + CHUNK]), Annotation.source == source)
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


def _label_rows(sample_id: int, p: PendingSample, rules: DerivationRules | None) -> list[dict]:
    rows = []
    if p.has_label:
        rows.append({"sample_id": sample_id, "source": "imported", "raw": p.raw,
                     **{f: getattr(p, f) for f in LABEL_FIELDS}})
    if rules is not None and p.emotion is not None:
        derived = {k: v for k, v in rules.derive(p.emotion).items() if getattr(p, k) is None}
        if any(v is not None for v in derived.values()):
            rows.append({"sample_id": sample_id, "source": "derived",
                         "raw": {"rules": rules.to_dict()}, "emotion": None, **derived})
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
    kinds: dict[str, list[str]] = {}
    rows = []
    for sid, p in pending:
        for kind, (names, values) in p.features.items():
            kinds.setdefault(kind, names)
            rows.append({"sample_id": sid, "kind": kind,
                         "values": np.asarray(values, dtype=np.float32).tobytes()})
    for kind, names in kinds.items():
        if session.get(FeatureKind, kind) is None:
            session.add(FeatureKind(kind=kind, names=list(names)))
    session.flush()
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(Feature), rows[i:i + CHUNK])


def commit_samples(session: Session, dataset: Dataset, records: list[PendingSample], *,
                   rules: DerivationRules | None) -> dict[str, int]:
    """Insert new samples, append changed imported labels to existing ones; idempotent by crop hash."""
    unique: dict[str, PendingSample] = {}
    for p in records:
        unique.setdefault(p.crop_sha256, p)  # the same crop twice in one import is one sample
    existing = _existing(session, dataset.id, list(unique))
    media = _media_ids(session, {p.media_sha256 for p in unique.values() if p.media_sha256})
    new = [p for sha, p in unique.items() if sha not in existing]
    label_rows: list[dict] = []
    currents: dict[int, list[Annotation]] = {}
    inserted: list[tuple[int, PendingSample]] = []
    for i in range(0, len(new), CHUNK):
        chunk = new[i:i + CHUNK]
        ids = session.execute(insert(Sample).returning(Sample.id, sort_by_parameter_order=True),
                              [_sample_row(dataset.id, p, media) for p in chunk]).scalars().all()
        inserted += list(zip(ids, chunk))
    for sid, p in inserted:
        label_rows += _label_rows(sid, p, rules)
    # existing samples: a new imported row only when the file's label differs from the last one
    relabelled = 0
    latest = _latest_imported(session, list(existing.values()))
    touched = []
    rederive: list[tuple[int, PendingSample]] = []
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
    ann_ids: list[int] = []
    for i in range(0, len(label_rows), CHUNK):
        ann_ids += session.execute(insert(Annotation).returning(Annotation.id, sort_by_parameter_order=True),
                                   label_rows[i:i + CHUNK]).scalars().all()
    for aid, row in zip(ann_ids, label_rows):
        currents.setdefault(row["sample_id"], []).append(Annotation(id=aid, **row))
    new_ids = {sid for sid, _ in inserted}
    cur_rows = [{"id": sid, **compute_current(anns)} for sid, anns in currents.items() if sid in new_ids]
    for i in range(0, len(cur_rows), CHUNK):
        session.execute(update(Sample), cur_rows[i:i + CHUNK])
    refresh_current(session, touched)
    _store_features(session, inserted)
    return {"added": len(inserted), "existing": len(existing), "relabelled": relabelled}
