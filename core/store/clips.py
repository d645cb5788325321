"""Clips in the store: add a clip row to a sample, get one, list a dataset's clips, record the
arrays computed from a clip (per-frame embeddings per model version, audio images)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.store.models import Media, Sample
from core.store.models_clips import Clip

CLIP_FIELDS = ("media_id", "start", "end", "frames", "rule", "frame_indices", "mask", "crops_sha256",
               "crops_path", "has_audio")
IN_CHUNK = 5000


@dataclass(frozen=True)
class ClipInfo:
    """A clip row as plain values, with its sample's dataset, subject, split and media path."""

    sample_id: int
    dataset_id: int
    media_id: int | None
    media_path: str | None  # relative to the data dir
    start: float
    end: float
    rule: dict[str, Any]
    frame_indices: list[int]
    mask: list[bool]
    crops_path: str
    has_audio: bool
    arrays: dict[str, Any]
    subject: str | None
    split: str | None

    @property
    def frames(self) -> int:
        return len(self.mask)

    def crops(self) -> np.ndarray:
        """The stacked aligned crops (N, S, S, 3) uint8 BGR, zeros where masked."""
        return load_array(self.crops_path)

    def embedding(self, version: str) -> dict[str, Any] | None:
        """{sha, rel, dim} of this clip's per-frame embeddings by a model version, if computed."""
        return (self.arrays.get("embeddings") or {}).get(version)


def load_array(rel: str) -> np.ndarray:
    """A .npy under the data dir (no pickles; a path leading outside it refused)."""
    data_dir = get_settings().data_dir.resolve()
    path = (data_dir / rel).resolve()
    if not path.is_relative_to(data_dir):
        raise ValueError(f"{rel}: not a path inside the data dir")
    return np.load(path, allow_pickle=False)


def check_clip(row: dict[str, Any]) -> None:
    """Refuse a clip row whose parts disagree (mask and frame indices one per slot, a time range)."""
    missing = [f for f in CLIP_FIELDS if f not in row and f != "media_id"]
    if missing:
        raise ValueError(f"clip row lacks {', '.join(missing)}")
    n = int(row["frames"])
    if n < 1 or len(row["mask"]) != n or len(row["frame_indices"]) != n:
        raise ValueError(f"clip of {n} slots has {len(row['mask'])} mask and {len(row['frame_indices'])} "
                         "frame index entries; one each per slot")
    if not float(row["end"]) >= float(row["start"]) >= 0.0:
        raise ValueError(f"clip time range {row['start']}..{row['end']} s is not a range from 0 on")


def add_clips(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert clip rows (sample_id + CLIP_FIELDS); a sample that has a clip already keeps it."""
    if not rows:
        return
    for row in rows:
        check_clip(row)
    have = set()
    ids = [r["sample_id"] for r in rows]
    for i in range(0, len(ids), IN_CHUNK):
        have |= set(session.scalars(select(Clip.sample_id).where(Clip.sample_id.in_(ids[i:i + IN_CHUNK]))))
    fresh, seen = [], set(have)
    for r in rows:
        if r["sample_id"] not in seen:
            seen.add(r["sample_id"])
            fresh.append({"sample_id": r["sample_id"], **{f: r.get(f) for f in CLIP_FIELDS},
                          "arrays": r.get("arrays")})
    if fresh:
        session.execute(insert(Clip), fresh)


def _info(clip: Clip, sample: Sample, media_path: str | None) -> ClipInfo:
    return ClipInfo(clip.sample_id, sample.dataset_id, clip.media_id, media_path, clip.start, clip.end,
                    dict(clip.rule), [int(i) for i in clip.frame_indices], [bool(m) for m in clip.mask],
                    clip.crops_path, bool(clip.has_audio), dict(clip.arrays or {}), sample.subject, sample.split)


def _query():
    return (select(Clip, Sample, Media.path).join(Sample, Sample.id == Clip.sample_id)
            .outerjoin(Media, Media.id == Clip.media_id))


def get_clip(session: Session, sample_id: int) -> ClipInfo | None:
    """The clip of a sample, or None when the sample is a still face."""
    row = session.execute(_query().where(Clip.sample_id == sample_id)).first()
    return None if row is None else _info(*row)


def is_clip(session: Session, sample_id: int) -> bool:
    return session.get(Clip, sample_id) is not None


def list_clips(session: Session, dataset_id: int, *, split: str | None = None, after_id: int = 0,
               limit: int | None = None) -> list[ClipInfo]:
    """A dataset's clips in sample id order (keyset pages: after_id), optionally of one split."""
    stmt = _query().where(Sample.dataset_id == dataset_id, Clip.sample_id > after_id)
    if split is not None:
        stmt = stmt.where(Sample.split == split)
    stmt = stmt.order_by(Clip.sample_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_info(*r) for r in session.execute(stmt)]


def iter_clips(session: Session, dataset_id: int, *, page: int = 1000) -> Iterator[ClipInfo]:
    """Every clip of a dataset, a page at a time."""
    after = 0
    while chunk := list_clips(session, dataset_id, after_id=after, limit=page):
        yield from chunk
        after = chunk[-1].sample_id


def count_clips(session: Session, dataset_id: int) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(Clip).join(Sample, Sample.id == Clip.sample_id)
                              .where(Sample.dataset_id == dataset_id)) or 0)


def set_clip_array(session: Session, sample_id: int, kind: str, key: str | None, info: dict[str, Any]) -> None:
    """Record an array computed from a clip: kind "embeddings" under key = model version, or
    kind "audio" (key None). The JSON value is replaced, not edited in place (change tracking)."""
    clip = session.get(Clip, sample_id)
    if clip is None:
        raise LookupError(f"sample {sample_id} is not a clip")
    arrays = dict(clip.arrays or {})
    if key is None:
        arrays[kind] = dict(info)
    else:
        arrays[kind] = {**(arrays.get(kind) or {}), key: dict(info)}
    clip.arrays = arrays
