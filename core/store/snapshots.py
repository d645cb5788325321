"""Named, immutable snapshots of a dataset's current labels (consensus included) and their export.

A snapshot stores, per sample, the current label's values (samples.cur_* as they were, with
cur_sources), its head annotation and the ids of every annotation of the sample it was computed
from; no image is copied. Nothing here updates or deletes a snapshot: a name, once used in a
dataset, always means the same labels. `ensure_snapshot` (what a training run calls) reuses the
newest snapshot when the labels have not changed since (same fingerprint).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core.store.datasets import require_dataset
from core.store.models import Annotation, Dataset, Sample, utcnow
from core.store.models_tasks import Snapshot, SnapshotLabel, TaskLabel
from core.targets import check_target

HEAD_KEYS = ("cur_annotation_id", "cur_source", "cur_annotator_id", "cur_sources")
STATE_VERSION = 1  # of label_state's digest (and of the current-label rules it stands for)
IN_CHUNK = 5000


class SnapshotError(ValueError):
    """A snapshot name that is taken or invalid."""


def _label_columns() -> list[str]:
    """Every cached current-label column of samples (cur_<field>), whichever fields the store has."""
    return [c.name for c in Sample.__table__.columns if c.name.startswith("cur_") and c.name not in HEAD_KEYS]


def _current_rows(session: Session, dataset_id: int) -> list[dict[str, Any]]:
    """(sample id, head, annotation ids, label) of every sample of the dataset, in id order."""
    cols = _label_columns()
    names = [c[4:] for c in cols]
    rows = []
    for sid, head, sources, *values in session.execute(
            select(Sample.id, Sample.cur_annotation_id, Sample.cur_sources, *(Sample.__table__.c[c] for c in cols))
            .where(Sample.dataset_id == dataset_id).order_by(Sample.id)).tuples():
        label = dict(zip(names, values))
        label["sources"] = sources or {}
        rows.append({"sample_id": sid, "head_id": head, "annotation_ids": [], "label": label})
    by_id = {r["sample_id"]: r["annotation_ids"] for r in rows}
    ids = list(by_id)
    for i in range(0, len(ids), IN_CHUNK):
        for sid, aid in session.execute(select(Annotation.sample_id, Annotation.id).where(
                Annotation.sample_id.in_(ids[i:i + IN_CHUNK])).order_by(Annotation.id)).tuples():
            by_id[sid].append(aid)
    return rows


def label_state(session: Session, dataset_id: int) -> str:
    """A digest of what the dataset's current labels are computed from: its samples, annotations
    and task labels (counts and newest ids). Annotations are append-only, so an equal digest means
    the same labels; two aggregate queries instead of reading every sample."""
    samples = session.execute(select(func.count(Sample.id), func.max(Sample.id))
                              .where(Sample.dataset_id == dataset_id)).one()
    labels = session.execute(select(func.count(Annotation.id), func.max(Annotation.id))
                             .join(Sample, Sample.id == Annotation.sample_id)
                             .where(Sample.dataset_id == dataset_id)).one()
    tasks = session.scalar(select(func.count()).select_from(TaskLabel).join(Sample, Sample.id == TaskLabel.sample_id)
                           .where(Sample.dataset_id == dataset_id))
    state = [STATE_VERSION, *samples, *labels, tasks]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def _labelled(label: dict[str, Any]) -> bool:
    return any(v not in (None, [], {}) for k, v in label.items() if k != "sources")


def create_snapshot(session: Session, dataset: str, name: str | None = None, *, note: str = "",
                    created_by: str | None = None, reuse: bool = False) -> Snapshot:
    """Freeze the dataset's current labels under `name` (default: "<dataset>@<UTC time>").

    reuse: return the newest snapshot instead when the labels have not changed since it was taken
    (same `label_state`).
    """
    ds = require_dataset(session, dataset)
    digest = label_state(session, ds.id)
    if reuse:
        newest = session.scalar(select(Snapshot).where(Snapshot.dataset_id == ds.id).order_by(Snapshot.id.desc()))
        if newest is not None and newest.fingerprint == digest:
            return newest
    name = (name or f"{ds.name}@{utcnow():%Y-%m-%dT%H:%M:%S.%f}").strip()
    if not 1 <= len(name) <= 200:
        raise SnapshotError("snapshot name must be 1 to 200 characters")
    if session.scalar(select(Snapshot.id).where(Snapshot.dataset_id == ds.id, Snapshot.name == name)):
        raise SnapshotError(f"dataset {ds.name!r} already has a snapshot named {name!r} (snapshots are immutable)")
    rows = _current_rows(session, ds.id)
    snap = Snapshot(dataset_id=ds.id, name=name, samples=len(rows), labelled=sum(_labelled(r["label"]) for r in rows),
                    fingerprint=digest, created_by=created_by, note=note)
    session.add(snap)
    session.flush()
    conn = session.connection()
    for i in range(0, len(rows), 20000):
        conn.execute(insert(SnapshotLabel.__table__), [dict(r, snapshot_id=snap.id) for r in rows[i:i + 20000]])
    return snap


def ensure_snapshot(session: Session, dataset: str, name: str | None = None, *,
                    created_by: str | None = None) -> Snapshot:
    """The named snapshot (LookupError if missing), or a snapshot of the labels now (the newest
    one when nothing changed since it was taken)."""
    if name:
        return get_snapshot(session, dataset, name)
    return create_snapshot(session, dataset, created_by=created_by, reuse=True,
                           note="taken automatically for a training run")


def get_snapshot(session: Session, dataset: str, name: str) -> Snapshot:
    ds = require_dataset(session, dataset)
    snap = session.scalar(select(Snapshot).where(Snapshot.dataset_id == ds.id, Snapshot.name == name))
    if snap is None:
        known = session.scalars(select(Snapshot.name).where(Snapshot.dataset_id == ds.id).order_by(Snapshot.id)).all()
        raise LookupError(f"dataset {ds.name!r} has no snapshot named {name!r} (known: {', '.join(known) or 'none'})")
    return snap


def list_snapshots(session: Session, dataset: str | None = None) -> list[dict[str, Any]]:
    stmt = (select(Snapshot, Dataset.name).join(Dataset, Dataset.id == Snapshot.dataset_id)
            .order_by(Snapshot.id))
    if dataset is not None:
        stmt = stmt.where(Snapshot.dataset_id == require_dataset(session, dataset).id)
    return [{"dataset": ds, "name": s.name, "samples": s.samples, "labelled": s.labelled,
             "fingerprint": s.fingerprint[:12], "created_by": s.created_by, "created_at": s.created_at,
             "note": s.note} for s, ds in session.execute(stmt).tuples()]


def snapshot_labels(session: Session, snap: Snapshot) -> list[dict[str, Any]]:
    """One dict per sample: sample_id, crop_path, split, subject, head_id, annotation_ids, the
    frozen label fields and `sources`."""
    stmt = (select(SnapshotLabel, Sample.crop_path, Sample.split, Sample.subject)
            .join(Sample, Sample.id == SnapshotLabel.sample_id)
            .where(SnapshotLabel.snapshot_id == snap.id).order_by(SnapshotLabel.sample_id))
    return [{"sample_id": lab.sample_id, "crop_path": crop, "split": split, "subject": subject,
             "head_id": lab.head_id, "annotation_ids": lab.annotation_ids, **lab.label}
            for lab, crop, split, subject in session.execute(stmt).tuples()]


def snapshot_count(session: Session, dataset_id: int) -> int:
    return session.scalar(select(func.count()).where(Snapshot.dataset_id == dataset_id)) or 0


def export_snapshot(session: Session, dataset: str, name: str, to: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Write a snapshot to .csv (JSON text in cells holding lists/dicts) or .json (a list of
    objects with the snapshot's name and fingerprint). Refuses what `core.targets` refuses."""
    to = Path(to)
    if to.suffix.lower() not in (".csv", ".json"):
        raise ValueError(f"snapshot export file must end in .csv or .json, not {to.suffix or 'nothing'}")
    to = check_target(to, force=force, what="snapshot export")
    snap = get_snapshot(session, dataset, name)
    rows = snapshot_labels(session, snap)
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = to.with_name(f".{to.name}.{os.getpid()}.tmp")
    try:
        if to.suffix.lower() == ".json":
            meta = {"dataset": dataset, "snapshot": snap.name, "fingerprint": snap.fingerprint,
                    "created_at": f"{snap.created_at:%Y-%m-%dT%H:%M:%S}Z", "labels": rows}
            tmp.write_text(json.dumps(meta, indent=1, default=str))
        else:
            from core.export import safe_cell

            flat = [{k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in r.items()} for r in rows]
            pd.DataFrame(flat).map(safe_cell).to_csv(tmp, index=False, lineterminator="\r\n")
        os.replace(tmp, to)
    finally:
        tmp.unlink(missing_ok=True)
    return {"file": str(to), "snapshot": snap.name, "rows": len(rows), "fingerprint": snap.fingerprint}
