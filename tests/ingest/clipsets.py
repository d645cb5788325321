"""Helpers of the clip importer tests: generated clips (tests.clips.clipgen: real asset faces,
a tone or no audio) under dataset-style names, and the stored clip rows of a dataset."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from core.store.clips import ClipInfo, list_clips
from core.store.models import Dataset, Sample
from tests.clips.clipgen import write_clip

N = 4  # frames per clip in these tests (--clip-frames)


def clip(path: Path, **kw) -> Path:
    """A short (12 frames, 0.5 s) clip at `path` (folders made); kw as clipgen.write_clip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".avi":
        kw.setdefault("codec", "mpeg4")
    return write_clip(path, **{"frames": 12, **kw})


def stored(read, dataset: str) -> dict[str, tuple[Sample, ClipInfo]]:
    """source path -> (sample, its clip) of a dataset."""
    return {sample.source_path: (sample, c) for sample, c in stored_list(read, dataset)}


def stored_list(read, dataset: str) -> list[tuple[Sample, ClipInfo | None]]:
    """(sample, its clip) of a dataset in sample id order."""
    with read() as s:
        ds = s.scalar(select(Dataset).where(Dataset.name == dataset))
        if ds is None:
            return []
        clips = {c.sample_id: c for c in list_clips(s, ds.id)}
        rows = s.scalars(select(Sample).where(Sample.dataset_id == ds.id).order_by(Sample.id)).all()
        return [(r, clips.get(r.id)) for r in rows]


def store_files(env: Path) -> list[Path]:
    """Every crop, clip crop stack and media file of the test data dir."""
    data = env / "data"
    return sorted(p for kind in ("crops", "clip_crops", "media") if (data / kind).exists()
                  for p in (data / kind).rglob("*") if p.is_file())


def sample_count(read) -> int:
    with read() as s:
        return s.scalar(select(func.count()).select_from(Sample))
