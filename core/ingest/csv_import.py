"""AffectNet-style CSV: image_path,emotion,valence,arousal[,stress][,subject][,split], and an
export's richer label columns (emotions, distribution, dominance, target:<name>; core.ingest.rich_columns)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from core.faces.io import ImageError, decode_image
from core.ingest.context import ImportContext
from core.ingest.files import UnsafePathError, resolve_inside, sha256_bytes
from core.ingest.records import PendingSample, RowError
from core.ingest.rich_columns import parse_rich_labels, read_table_schema
from core.ingest.tables import is_missing, parse_float, parse_labels, table_rows
from core.label_schema import LabelSchema
from core.taxonomy import LabelError

SPLITS = {"train", "val", "test", "pretrain", "labelled", "ssl", "classifier", "finetune"}


def unquote_formula(text: str) -> str:
    """Undo the export's formula neutralising ("'=x" -> "=x"), so export -> import is lossless."""
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r" else text


def read_crop_file(ctx: ImportContext, name: str, file: str, line: int | None
                   ) -> tuple[str, str] | RowError:
    """Validate an image named in an import file and store it as a crop; (sha, rel) or an error."""
    suffix = Path(name).suffix or ".img"
    try:
        path = resolve_inside(ctx.root, name, cache=ctx.resolved_dirs)
        data = path.read_bytes()
        sha = sha256_bytes(data)
        # a crop already in the store was decoded when it was stored (every writer validates
        # or encodes it): the same bytes need no second decode (re-imports of large CSVs)
        known = ctx.blobs.has("crops", sha, suffix)
        if not known:
            decode_image(data, name=name)
    except UnsafePathError as exc:
        return RowError(file, line, "image_path", str(exc))
    except FileNotFoundError:
        return RowError(file, line, "image_path", f"image {name!r} does not exist")
    except (IsADirectoryError, PermissionError, OSError) as exc:
        return RowError(file, line, "image_path", f"cannot read {name!r}: {exc.strerror or exc}")
    except ImageError as exc:
        return RowError(file, line, "image_path", str(exc))
    if known:  # what put() returns for a file it finds stored (it writes nothing)
        return sha, f"crops/{sha[:2]}/{sha}{suffix.lower()}"
    return ctx.blobs.put("crops", data, suffix, sha=sha)


def parse_csv(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    if path.is_dir():
        yield RowError(str(path), None, None, "expected a CSV file, got a folder")
        return
    ctx.root = path.parent
    va_scale = ctx.options.get("va_scale", "-1..1")
    stress_scale = ctx.options.get("stress_scale", "0..1")
    try:
        exported = read_table_schema(path)
    except ValueError as exc:
        yield RowError(str(path.name), None, None, str(exc))
        return
    schema = exported or LabelSchema(classes=ctx.taxonomy.classes)
    # a table with its schema beside it (an export) needs only the image: its labels are the
    # schema's columns, and a multi-label or trait table has no single emotion or V/A
    required = ["image_path"] if exported else ["image_path", "emotion", "valence", "arousal"]
    for item in table_rows(path, required=required):
        ctx.advance()
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        values, raw, errors = parse_labels(row, ctx.taxonomy, va_scale=va_scale,
                                           stress_scale=stress_scale, file=path.name, line=line)
        rich, rich_raw, rich_errors = parse_rich_labels(row, schema, va_scale=va_scale, file=path.name, line=line)
        values.update(rich)
        raw.update(rich_raw)
        errors += rich_errors
        if "emotion" in values and schema.emotion_mode != "single":
            errors.append(RowError(path.name, line, "emotion", f"the label schema is {schema.emotion_mode!r}: "
                                   f"use the {'emotions' if schema.emotion_mode == 'multi' else 'distribution'} column"))
        quality = None
        if not is_missing(row.get("quality")):
            try:
                quality = parse_float(row["quality"], "quality")
            except LabelError as exc:
                errors.append(RowError(path.name, line, "quality", str(exc)))
        split = None if is_missing(row.get("split")) else row["split"].strip().lower()
        if split is not None and split not in SPLITS:
            errors.append(RowError(path.name, line, "split", f"unknown split {split!r}"))
        stored = read_crop_file(ctx, row["image_path"].strip(), path.name, line)
        if isinstance(stored, RowError):
            errors.append(stored)
        if errors:
            yield from errors
            continue
        sha, rel = stored
        subject = None if is_missing(row.get("subject")) else unquote_formula(row["subject"].strip())
        yield PendingSample(crop_sha256=sha, crop_path=rel, source_path=row["image_path"].strip(),
                            raw=raw or None, subject=subject, split=split, quality=quality,
                            **values)
