"""A clip table: video_path[,start,end], emotion (or one column per class: a distribution, or a
`distribution` JSON cell), valence, arousal[, stress], traits (the First Impressions names or
target:<name>)[, subject, split]; one clip sample per row, paths relative to the table. A schema
file beside it (`<stem>.schema.json`, as an export writes) fixes the label schema; otherwise it
follows the columns (core.ingest.clip_csv.clip_csv_schema)."""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

from core.clips.sampling import SamplingRule
from core.ingest.clip_build import build_clips, clip_rule
from core.ingest.context import ImportContext
from core.ingest.csv_import import SPLITS, unquote_formula
from core.ingest.files import UnsafePathError, resolve_inside
from core.ingest.records import PendingSample, RowError
from core.ingest.rich_columns import parse_rich_labels, read_table_schema
from core.ingest.tables import TableError, is_missing, open_table, parse_float, parse_labels, table_rows
from core.label_schema import FIV2_TARGETS, LabelSchema, TargetSpec
from core.taxonomy import LabelError, Taxonomy

REQUIRED = ["video_path"]


def _class_columns(header: list[str], classes: tuple[str, ...]) -> dict[str, str]:
    """Columns named like a class (any case): column -> class."""
    by_name = {c.lower(): c for c in classes}
    return {h: by_name[h.strip().lower()] for h in header if h.strip().lower() in by_name}


def clip_csv_schema(path: Path, taxonomy: Taxonomy) -> LabelSchema | None:
    """The label schema of a clip table: its schema file; else a distribution over the taxonomy's
    classes when it has class columns (or a distribution column) and traits as named [0, 1]
    targets when it has trait columns; None when it is a plain single-label table."""
    exported = read_table_schema(path)
    if exported is not None:
        return exported
    try:
        header, rows = open_table(path, required=[])
    except TableError:
        return None  # the parser reports it on the file
    close = getattr(rows, "close", None)
    if close:
        close()
    names = {h.strip().lower() for h in header}
    dist = len(_class_columns(header, taxonomy.classes)) >= 2 or "distribution" in names
    traits = tuple(TargetSpec(t) for t in FIV2_TARGETS if t in names)
    if not dist and not traits:
        return None
    return LabelSchema(classes=taxonomy.classes, emotion_mode="distribution" if dist else "single",
                       class_list=taxonomy.name, stress="stress" in names, targets=traits)


def _distribution(row: dict[str, str], columns: dict[str, str], file: str, line: int
                  ) -> tuple[dict[str, float] | None, list[RowError]]:
    """Per-class columns -> a distribution (values / their sum; all zero = {}); None if all blank."""
    values, errors = {}, []
    for col, cls in columns.items():
        if is_missing(row.get(col)):
            continue
        try:
            v = parse_float(row[col], col)
            if v < 0 or not math.isfinite(v):
                raise LabelError(f"{col} {v:g} is negative or not finite")
            values[cls] = v
        except LabelError as exc:
            errors.append(RowError(file, line, col, str(exc)))
    if errors or not values:
        return None, errors
    total = sum(values.values())
    return ({c: v / total for c, v in values.items() if v > 0} if total > 0 else {}), []


def _row(row: dict[str, str], schema: LabelSchema, ctx: ImportContext, file: str, line: int, columns: dict[str, str]
         ) -> tuple[Path, float, float | None, dict, str | None, str | None] | list[RowError]:
    va_scale = ctx.options.get("va_scale", "-1..1")
    values, raw, errors = parse_labels(row, ctx.taxonomy, va_scale=va_scale,
                                       stress_scale=ctx.options.get("stress_scale", "0..1"), file=file, line=line)
    rich, rich_raw, rich_errors = parse_rich_labels(row, schema, va_scale=va_scale, file=file, line=line)
    values.update(rich)
    raw.update(rich_raw)
    errors += rich_errors
    if "emotion" in values and schema.emotion_mode != "single":
        errors.append(RowError(file, line, "emotion", f"the label schema is {schema.emotion_mode!r}: give the "
                                                      "class columns (or a distribution column), not emotion"))
    if columns:
        dist, dist_errors = _distribution(row, columns, file, line)
        errors += dist_errors
        if dist is not None:
            values["distribution"] = dist
            raw["distribution"] = {c: float(row[col]) for col, c in columns.items() if not is_missing(row.get(col))}
    targets = dict(values.get("targets") or {})
    for spec in schema.targets:
        if spec.name in row and not is_missing(row[spec.name]):
            try:
                targets[spec.name] = spec.check(parse_float(row[spec.name], spec.name))
            except LabelError as exc:
                errors.append(RowError(file, line, spec.name, str(exc)))
    if targets:
        values["targets"] = targets
    times: dict[str, float | None] = {"start": 0.0, "end": None}
    for name in ("start", "end"):
        if not is_missing(row.get(name)):
            try:
                times[name] = parse_float(row[name], name)
                if times[name] < 0:
                    raise LabelError(f"{name} {times[name]:g} s is negative")
            except LabelError as exc:
                errors.append(RowError(file, line, name, str(exc)))
    if times["end"] is not None and times["end"] <= (times["start"] or 0.0):
        errors.append(RowError(file, line, "end", f"end {times['end']:g} is not after start {times['start']:g}"))
    split = None if is_missing(row.get("split")) else row["split"].strip().lower()
    if split is not None and split not in SPLITS:
        errors.append(RowError(file, line, "split", f"unknown split {split!r}"))
    name = row["video_path"].strip()
    try:
        video = resolve_inside(ctx.root, name, cache=ctx.resolved_dirs)
        if not video.is_file():
            raise FileNotFoundError
    except UnsafePathError as exc:
        errors.append(RowError(file, line, "video_path", str(exc)))
    except OSError:
        errors.append(RowError(file, line, "video_path", f"video {name!r} does not exist"))
    if errors:
        return errors
    subject = None if is_missing(row.get("subject")) else unquote_formula(row["subject"].strip())
    return video, times["start"], times["end"], {**values, "raw": raw or None}, subject, split


def parse_clip_csv(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """One clip per row; the rows of one video are sampled in one decoding pass."""
    if path.is_dir():
        yield RowError(str(path), None, None, "expected a CSV/Parquet file of clips, got a folder")
        return
    ctx.root = path.parent
    try:
        schema = clip_csv_schema(path, ctx.taxonomy) or LabelSchema(classes=ctx.taxonomy.classes)
    except ValueError as exc:
        yield RowError(path.name, None, None, str(exc))
        return
    videos: dict[Path, list[tuple[int, float, float | None, dict, str | None, str | None]]] = {}
    seen: dict[tuple[Path, float, float | None], int] = {}
    columns: dict[str, str] | None = None
    for item in table_rows(path, required=REQUIRED):
        ctx.advance()
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        if columns is None:
            columns = _class_columns(list(row), schema.classes) if schema.emotion_mode == "distribution" else {}
        got = _row(row, schema, ctx, path.name, line, columns)
        if isinstance(got, list):
            yield from got
            continue
        video, start, end, labels, subject, split = got
        if (video, start, end) in seen:
            yield RowError(path.name, line, "start", f"clip {row['video_path'].strip()} {start:g}-"
                                                     f"{'end' if end is None else f'{end:g}'} is already on line "
                                                     f"{seen[video, start, end]}")
            continue
        seen[video, start, end] = line
        videos.setdefault(video, []).append((line, start, end, labels, subject, split))
    rule = clip_rule(ctx)
    media: dict[str, str] = {}
    for video, rows in videos.items():
        for n in range(0, len(rows), 8):  # bounded frames in memory per decoding pass
            part = rows[n:n + 8]
            for r, item in zip(part, _build(video, part, ctx, rule, media, path.name)):
                if item is not None:
                    if isinstance(item, PendingSample):
                        item.subject = r[4] or item.subject
                    yield item


def _build(video: Path, part: list, ctx: ImportContext, rule: SamplingRule, media: dict[str, str], file: str
           ) -> list[PendingSample | RowError | None]:
    """build_clips over rows of one video (subject: the video's stem unless a row names one)."""
    return build_clips(video, [(r[1], r[2]) for r in part], ctx, rule=rule, labels=[r[3] for r in part],
                      subject=video.stem, split=[r[5] for r in part], source=ctx.rel(video), media=media,
                      where=[(file, r[0]) for r in part])
