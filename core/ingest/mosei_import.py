"""CMU-MOSEI-style labels: video_id,start,end,sentiment + six intensities 0..3 per segment (+ the videos);
MTurk per-rater batches are averaged per clip (core.ingest.mosei_mturk).

Normalisation (documented in the README): the six intensities of a segment divided by their sum
give its emotion distribution; a segment whose six intensities are all 0 has no emotion ({}).
Sentiment (-3..3) is kept as the named target `sentiment`. Video ids stay strings ('-aB3', '12345').
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from core.ingest.context import ImportContext
from core.ingest.files import files_under
from core.ingest.mosei_mturk import KEYS, clip_segment, mturk_clips, transcript_times
from core.ingest.records import PendingSample, RowError
from core.ingest.segments import Segment, index_videos, videos_samples
from core.ingest.tables import TableError, is_missing, open_table, parse_float
from core.label_schema import LabelSchema, mosei_schema
from core.taxonomy import LabelError

EMOTION_COLUMNS = ("happy", "sad", "anger", "surprise", "disgust", "fear")
REQUIRED = ["video_id", "start", "end", *EMOTION_COLUMNS]
MAX_INTENSITY = 3.0
SPLITS = {"train": "train", "valid": "val", "val": "val", "test": "test", "0": "train", "1": "val", "2": "test"}


def _segment(row: dict[str, str], schema: LabelSchema, file: str, line: int
             ) -> tuple[str, Segment] | list[RowError]:
    """The row's video id and labelled segment, or its errors (one per bad field)."""
    errors: list[RowError] = []
    video = row["video_id"].strip()
    if not video or any(c in video for c in "/\\\x00"):
        errors.append(RowError(file, line, "video_id", f"video id {video[:80]!r} is empty or holds a path separator"))
    times: dict[str, float] = {}
    for name in ("start", "end"):
        try:
            times[name] = parse_float(row[name], name)
        except LabelError as exc:
            errors.append(RowError(file, line, name, str(exc)))
    if len(times) == 2 and times["end"] <= max(times["start"], 0.0):
        errors.append(RowError(file, line, "end", f"end {times['end']:g} is not after start {times['start']:g}"))
    intensities: dict[str, float] = {}
    for col in EMOTION_COLUMNS:
        try:
            value = parse_float(row[col], col)
            if not 0.0 <= value <= MAX_INTENSITY:
                raise LabelError(f"{col} intensity {value:g} is outside [0, {MAX_INTENSITY:g}]")
            intensities[schema.class_name(col)] = value
        except LabelError as exc:
            errors.append(RowError(file, line, col, str(exc)))
    targets: dict[str, float] = {}
    if not is_missing(row.get("sentiment")):
        try:
            targets = schema.check_targets({"sentiment": parse_float(row["sentiment"], "sentiment")})
        except LabelError as exc:
            errors.append(RowError(file, line, "sentiment", str(exc)))
    split = None
    if not is_missing(row.get("split")):
        split = SPLITS.get(row["split"].strip().lower())
        if split is None:
            errors.append(RowError(file, line, "split", f"unknown split {row['split'].strip()[:40]!r} "
                                                        "(train/val/test or 0/1/2)"))
    if errors:
        return errors
    raw = {"intensities": intensities, "scale": {"intensity": "0..3", "sentiment": "-3..3"}}
    if targets:
        raw["sentiment"] = targets["sentiment"]
    labels = {"distribution": schema.check_distribution(intensities), "raw": raw, "targets": targets or None}
    return video, Segment(file, line, max(times["start"], 0.0), times["end"], labels, split)


Groups = dict[str, tuple[str, list[Segment]]]  # video file stem -> (subject, its labelled segments)


def _segment_groups(header: list[str], rows, file: str) -> tuple[Groups, list[RowError]]:
    """Segments per video id, in file order; a segment (video, start, end) given twice is an error."""
    names = {h.strip().lower(): h for h in header}  # Happy or happy: columns by name, any case
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        return {}, [RowError(file, None, None, f"{file}: missing column(s) {', '.join(missing)} (found: "
                                               f"{', '.join(header[:20])})")]
    schema = mosei_schema()
    groups: Groups = {}
    seen: dict[tuple[str, float, float | None], int] = {}
    errors: list[RowError] = []
    for line, row in rows:
        if "__error__" in row:
            errors.append(RowError(file, line, None, row["__error__"]))
            continue
        got = _segment({c: row[h] for c, h in names.items()}, schema, file, line)
        if isinstance(got, list):
            errors += got
            continue
        video, seg = got
        key = (video, seg.start, seg.end)
        if key in seen:
            errors.append(RowError(file, line, "start", f"segment {video} {seg.start:g}-{seg.end:g} s is already "
                                                        f"on line {seen[key]}"))
            continue
        seen[key] = line
        groups.setdefault(video, (video, []))[1].append(seg)
    return groups, errors


def _mturk_groups(header: list[str], rows, file: str, videos: dict[str, Path], ctx: ImportContext
                  ) -> tuple[Groups, list[RowError]]:
    """Clips averaged over raters; each in its full video (transcript times) or as its own clip file."""
    clips, errors = mturk_clips(rows, header, file)
    times = transcript_times(files_under(ctx.root, {".txt"})[0]) if clips else {}
    groups: Groups = {}
    for (video, clip), labels in clips.items():
        span = times.get((video, clip))
        if span is not None and video in videos:
            groups.setdefault(video, (video, []))[1].append(clip_segment(labels, file, clip, span))
        elif f"{video}_{clip}" in videos:
            groups.setdefault(f"{video}_{clip}", (video, []))[1].append(clip_segment(labels, file, clip, None))
        elif video in videos:
            ctx.skip("clip without transcript times or clip file")
        else:
            groups.setdefault(video, (video, []))[1].append(clip_segment(labels, file, clip, span))
    return groups, errors


def read_mosei_labels(path: Path, file: str, videos: dict[str, Path], ctx: ImportContext
                      ) -> tuple[Groups, list[RowError]]:
    """The labelled segments of a label CSV or an MTurk batch (told apart by the header)."""
    try:
        header, rows = open_table(path, required=[])
    except TableError as exc:
        return {}, [RowError(file, None, None, str(exc))]
    if KEYS[0] in header:
        return _mturk_groups(header, rows, file, videos, ctx)
    return _segment_groups(header, rows, file)


def parse_mosei(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """Labelled segments; the frames of each segment of a present video give samples
    (subject = video id). Videos not present are skipped (counted); none at all is an error."""
    ctx.root = path if path.is_dir() else path.parent
    files = [path] if path.is_file() else sorted(  # a label CSV beside the videos, or the raw tree's Labels/
        p for pattern in ("*.csv", "Labels/*.csv") for p in path.glob(pattern) if not p.name.startswith("."))
    if not files:
        yield RowError(str(path), None, None, "no label CSV (video_id,start,end,sentiment,happy,...) found")
        return
    videos, refused = index_videos(ctx.root, ctx)
    yield from refused
    for csv_path in files:
        rel = ctx.rel(csv_path)
        groups, errors = read_mosei_labels(csv_path, rel, videos, ctx)
        yield from errors
        ctx.total = (ctx.total or 0) + sum(len(segs) for _, segs in groups.values())
        present = yield from videos_samples(((videos.get(key), subject, segments)
                                             for key, (subject, segments) in groups.items()),
                                            ctx, missing="video not present")
        if groups and not present:
            yield RowError(rel, None, "video_id", f"none of the {len(groups)} videos it names is under "
                                                  f"{ctx.root} (put <video_id>.mp4 beside the CSV)")
