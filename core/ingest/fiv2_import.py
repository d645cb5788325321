"""First Impressions V2: trait -> {"<YouTubeID>.<NNN>.mp4": value in [0, 1]} (pickle, JSON or CSV) + clips."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.ingest.context import ImportContext
from core.ingest.names import split_from_name
from core.ingest.records import PendingSample, RowError
from core.ingest.safe_pickle import PickleRefused, load_plain
from core.ingest.segments import Segment, index_videos, videos_samples
from core.ingest.tables import TableError, is_missing, open_table
from core.label_schema import FIV2_TARGETS, fiv2_schema
from core.taxonomy import LabelError

ANNOTATION_EXTS = {".pkl", ".pickle", ".json", ".csv"}
VIDEO_COLUMNS = ("video", "VideoName", "video_name", "file")

Labels = dict[str, tuple[dict[str, float], int | None]]  # video name -> (traits, line or None)


class DuplicateKey(ValueError):
    pass


def subject_of(video: str) -> str:
    """The YouTube id: the part of the clip name before the first '.' (Xy0-AbC.003.mp4 -> Xy0-AbC)."""
    return video.split(".", 1)[0]


def _trait(name: Any) -> str:
    text = str(name).strip().lower()
    if text not in FIV2_TARGETS:
        raise LabelError(f"unknown trait {str(name)[:60]!r} (FIV2 traits: {', '.join(FIV2_TARGETS)})")
    return text


def _video_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip() or "/" in key or "\\" in key or "\x00" in key:
        raise LabelError(f"video {str(key)[:80]!r} is not a clip file name like Xy0-AbCdEfG.003.mp4")
    return key.strip()


def _from_nested(data: Any, file: str) -> tuple[Labels, list[RowError]]:
    """The pickle's shape: {trait: {video: value}}; every bad entry is one located error."""
    if not isinstance(data, dict):
        return {}, [RowError(file, None, None, f"expected a dict of traits, got a {type(data).__name__}")]
    schema = fiv2_schema()
    labels: Labels = {}
    errors: list[RowError] = []
    bad: set[str] = set()  # clips with a bad value: left out whole (--skip-invalid keeps no half label)
    for trait_key, per_video in data.items():
        try:
            trait = _trait(trait_key)
        except LabelError as exc:
            errors.append(RowError(file, None, str(trait_key)[:60], str(exc)))
            continue
        if not isinstance(per_video, dict):
            errors.append(RowError(file, None, trait, f"expected a dict of videos, got a {type(per_video).__name__}"))
            continue
        for key, value in per_video.items():
            video = key
            try:
                video = _video_key(key)
                traits = labels.setdefault(video, ({}, None))[0]
                if trait in traits:  # keys differing only by spaces around them
                    raise LabelError(f"{video}: {trait} is given twice")
                traits[trait] = schema.target(trait).check(value)
            except LabelError as exc:
                reason = str(exc) if str(exc).startswith(str(key)[:80]) else f"{str(key)[:80]}: {exc}"
                errors.append(RowError(file, None, trait, reason))
                bad.add(video)
    return {v: t for v, t in labels.items() if v not in bad}, errors


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise DuplicateKey(f"key {k[:80]!r} appears twice in one object")
        seen[k] = v
    return seen


def _from_json(path: Path, file: str) -> tuple[Labels, list[RowError]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"), object_pairs_hook=_no_duplicates,
                          parse_constant=lambda c: float(c))
    except DuplicateKey as exc:
        return {}, [RowError(file, None, None, str(exc))]
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return {}, [RowError(file, None, None, f"not readable JSON ({str(exc)[:120]})")]
    return _from_nested(data, file)


def _from_csv(path: Path, file: str) -> tuple[Labels, list[RowError]]:
    """One row per clip: a video column (video / VideoName) and one column per trait."""
    try:
        header, rows = open_table(path, required=[])
    except TableError as exc:
        return {}, [RowError(file, None, None, str(exc))]
    video_col = next((c for c in VIDEO_COLUMNS if c in header), None)
    traits = {c: c.strip().lower() for c in header if c.strip().lower() in FIV2_TARGETS}
    if video_col is None or not traits:
        return {}, [RowError(file, None, None, f"needs a video column ({' or '.join(VIDEO_COLUMNS)}) and trait "
                                               f"columns among {', '.join(FIV2_TARGETS)}")]
    schema = fiv2_schema()
    labels: Labels = {}
    errors: list[RowError] = []
    for line, row in rows:
        if "__error__" in row:
            errors.append(RowError(file, line, None, row["__error__"]))
            continue
        try:
            video = _video_key(row[video_col])
        except LabelError as exc:
            errors.append(RowError(file, line, video_col, str(exc)))
            continue
        if video in labels:
            errors.append(RowError(file, line, video_col, f"{video} is already on line {labels[video][1]}"))
            continue
        values: dict[str, float] = {}
        bad = False
        for col, trait in traits.items():
            if is_missing(row[col]):
                continue
            try:
                values[trait] = schema.target(trait).check(row[col].strip())
            except LabelError as exc:
                errors.append(RowError(file, line, col, str(exc)))
                bad = True
        if not bad:
            labels[video] = (values, line)
    return labels, errors


def read_fiv2_labels(path: Path, file: str) -> tuple[Labels, list[RowError]]:
    """Per clip its traits, from a pickle (restricted unpickler), JSON or CSV annotation file."""
    suffix = path.suffix.lower()
    if suffix in (".pkl", ".pickle"):
        try:
            data = load_plain(path)
        except (PickleRefused, OSError) as exc:
            return {}, [RowError(file, None, None, str(exc))]
        return _from_nested(data, file)
    if suffix == ".json":
        return _from_json(path, file)
    return _from_csv(path, file)


def _annotation_files(path: Path) -> list[Path]:
    """The file named, or a folder's annotation_* files (else its other .pkl/.json/.csv files);
    transcriptions and the demographics CSVs are not trait files."""
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in ANNOTATION_EXTS
                   and not p.name.startswith(".") and "transcription" not in p.name.lower()
                   and "eth_gender" not in p.name.lower())
    named = [p for p in files if p.name.lower().startswith("annotation")]
    return named or files


def parse_fiv2(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """Traits per clip; each present clip's sampled frames give samples (subject = YouTube id).
    Clips not present are skipped (counted); none present at all is an error."""
    ctx.root = path if path.is_dir() else path.parent
    files = _annotation_files(path)
    if not files:
        yield RowError(str(path), None, None, "no annotation file (annotation_*.pkl, .json or .csv) found")
        return
    videos, refused = index_videos(ctx.root, ctx)
    yield from refused
    for ann in files:
        rel = ctx.rel(ann)
        labels, errors = read_fiv2_labels(ann, rel)
        yield from errors
        ctx.total = (ctx.total or 0) + len(labels)
        split = split_from_name(ann.name)
        present = yield from videos_samples(
            ((videos.get(clip) or videos.get(clip.removesuffix(".mp4")), subject_of(clip),
              [Segment(rel, line, 0.0, None, {"targets": traits, "raw": {"clip": clip}}, split)])
             for clip, (traits, line) in labels.items()), ctx, missing="clip not present")
        if labels and not present:
            yield RowError(rel, None, "video", f"none of the {len(labels)} clips it names is under {ctx.root} "
                                               "(extract the clips beside the annotation file)")
