"""Folder of class sub-folders: ROOT/<emotion>/<image>, plus FER2013's pixels CSV."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from core.faces.io import IMAGE_EXTS
from core.ingest.context import ImportContext
from core.ingest.crop_check import crop_warning
from core.ingest.csv_import import read_crop_file
from core.ingest.records import PendingSample, RowError
from core.ingest.tables import is_missing, table_rows
from core.taxonomy import FER7, LabelError

FER_USAGE = {"training": "train", "publictest": "val", "privatetest": "test"}


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))


def parse_folder(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    if not path.is_dir():
        yield RowError(str(path), None, None, "expected a folder with one sub-folder per emotion")
        return
    ctx.root = path
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        yield RowError(path.name, None, None, "no class sub-folders found")
        return
    jobs: list[tuple[str, Path]] = []
    for folder in classes:
        try:
            emotion = ctx.taxonomy.parse(folder.name)
        except LabelError as exc:
            yield RowError(folder.name + "/", None, "emotion", f"folder name: {exc}")
            continue
        jobs += [(emotion, f) for f in image_files(folder)]
    ctx.total = len(jobs)
    if ctx.options.get("check_crops", True):
        warning = crop_warning([f for _, f in jobs])
        if warning:
            ctx.warnings.append(warning)
    for emotion, file in jobs:
        ctx.advance()
        rel = ctx.rel(file)
        stored = read_crop_file(ctx, rel, rel, None)
        if isinstance(stored, RowError):
            yield stored
            continue
        yield PendingSample(crop_sha256=stored[0], crop_path=stored[1], source_path=rel,
                            emotion=emotion, raw={"emotion": file.parent.name})


def parse_fer2013(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """FER2013 CSV (emotion,pixels,Usage): 48x48 gray crops; codes are FER-7; Usage gives the split."""
    ctx.root = path.parent
    for item in table_rows(path, required=["emotion", "pixels"]):
        ctx.advance()
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        errors, emotion, split = [], None, None
        code = row["emotion"].strip()
        if not is_missing(code):
            if not code.isdecimal() or len(code) > 9 or not 0 <= int(code) < len(FER7):
                errors.append(RowError(path.name, line, "emotion", f"FER2013 code {code!r} is not 0..6"))
            else:
                try:
                    emotion = ctx.taxonomy.parse(FER7[int(code)])
                except LabelError as exc:
                    errors.append(RowError(path.name, line, "emotion", str(exc)))
        usage = row.get("Usage", "").strip()
        if usage:
            split = FER_USAGE.get(usage.lower())
            if split is None:
                errors.append(RowError(path.name, line, "Usage", f"unknown Usage {usage!r} "
                                       "(Training, PublicTest or PrivateTest)"))
        try:
            pixels = np.array(row["pixels"].split(), dtype=np.int64)
        except (ValueError, OverflowError):
            pixels = None
            errors.append(RowError(path.name, line, "pixels", "pixels are not whole numbers"))
        if pixels is not None and pixels.size != 48 * 48:
            errors.append(RowError(path.name, line, "pixels", f"{pixels.size} values, expected 2304 (48x48)"))
        elif pixels is not None and (pixels.min() < 0 or pixels.max() > 255):
            errors.append(RowError(path.name, line, "pixels", "values outside 0..255"))
        if errors:
            yield from errors
            continue
        ok, buf = cv2.imencode(".png", pixels.reshape(48, 48).astype(np.uint8))
        sha, rel = ctx.blobs.put("crops", buf.tobytes(), ".png")
        yield PendingSample(crop_sha256=sha, crop_path=rel, source_path=f"{path.name}:{line}",
                            emotion=emotion, split=split,
                            raw={"emotion": int(code)} if emotion else None)
