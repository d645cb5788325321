"""Shared helpers for the importer tests: CSV writing, store counts, samples by source path."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import func, select

from core.store.models import Annotation, Dataset, Sample
from tests.helpers import write_image


def write_csv(root: Path, rows: list[str], header: str = "image_path,emotion,valence,arousal",
              *, name: str = "labels.csv", images: int = 0, delimiter: str = ",", bom: bool = False) -> Path:
    """Write root/name with `header` and `rows`; first creates root/imgs/0..images-1.png."""
    for i in range(images):
        write_image(root / "imgs" / f"{i}.png", 1000 + i)
    text = "\n".join([header, *rows]).replace(",", delimiter) + "\n"
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


def counts(read) -> tuple[int, int]:
    """(samples, annotations) in the whole store."""
    with read() as s:
        return (s.scalar(select(func.count()).select_from(Sample)),
                s.scalar(select(func.count()).select_from(Annotation)))


def samples(read, dataset: str = "d") -> dict[str, Sample]:
    """The samples of a dataset keyed by source_path."""
    with read() as s:
        rows = s.scalars(select(Sample).join(Dataset, Dataset.id == Sample.dataset_id)
                         .where(Dataset.name == dataset).order_by(Sample.id))
        return {x.source_path: x for x in rows}


def annotations(read, sample_id: int) -> list[Annotation]:
    with read() as s:
        return list(s.scalars(select(Annotation).where(Annotation.sample_id == sample_id)
                              .order_by(Annotation.id)))


def crop_files(tmp: Path) -> list[Path]:
    """Every file under the test data dir's crops/ folder."""
    crops = tmp / "data" / "crops"
    return sorted(p for p in crops.rglob("*") if p.is_file()) if crops.exists() else []


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
