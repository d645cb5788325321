"""EMOTIC: the preprocessed CSV + npy release, the Kaggle annots_arrs/img_arrs release, or a plain CSV/JSON.

Every layout is read by column name: categories by name (both spellings of Disquietment), V/A/D on
1..10 mapped onto [-1, 1] (the originals in `raw`, NaN = missing), the person's face found inside
the body box (else the body crop, flagged), subject = the image's Filename, split from the file name.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core.faces.io import MAX_PIXELS, ImageError, decode_image
from core.ingest.context import ImportContext
from core.ingest.emotic_person import Person, body_box, categories, literal_list, person_sample, vad_value
from core.ingest.files import UnsafePathError, resolve_inside
from core.ingest.names import split_from_name
from core.ingest.records import PendingSample, RowError
from core.ingest.tables import TableError, is_missing, open_table
from core.label_schema import emotic_schema
from core.taxonomy import LabelError

VAD = ("valence", "arousal", "dominance")
PREPROCESSED = ["Filename", "BBox", "Categorical_Labels", "Continuous_Labels"]
KAGGLE = ["Filename", "Crop_name", "X_min", "Y_min", "X_max", "Y_max", "Valence", "Arousal", "Dominance"]
PLAIN = ["image_path", "bbox", "categories"]
NOT_CATEGORIES = {"index", "folder", "filename", "crop_name", "arr_name", "age", "gender", "valence", "arousal",
                  "dominance", "x_min", "y_min", "x_max", "y_max", "image size", "split", "subject"}
SPLITS = {"train", "val", "test"}


def load_array(path: Path, *, ndim: tuple[int, ...]) -> np.ndarray:
    """An .npy of uint8 pixels read with allow_pickle=False (memory-mapped: a lying header costs nothing)."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise ImageError(f"{path.name} does not exist") from None
    except (ValueError, OSError, EOFError) as exc:
        raise ImageError(f"{path.name} is not a readable .npy array ({str(exc)[:100]})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim not in ndim or arr.shape[-1] != 3:
        raise ImageError(f"{path.name} holds {getattr(arr, 'dtype', '?')} {getattr(arr, 'shape', '?')}, "
                         "not uint8 RGB images (..., H, W, 3)")
    if arr.shape[-3] * arr.shape[-2] > MAX_PIXELS:
        raise ImageError(f"{path.name}: images of {arr.shape[-2]}x{arr.shape[-3]} are too large")
    return arr


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(rgb)[..., ::-1])


class _Images:
    """Full images named by rows, decoded once per run of rows about the same image."""

    def __init__(self, ctx: ImportContext):
        self.ctx, self.name, self.image = ctx, None, None
        self.absent: set[str] = set()  # names looked up and not found (arrays releases rarely ship images)

    def get(self, names: list[str], *, required: bool) -> np.ndarray | None:
        """The first of `names` (relative to the import root) that exists; LabelError when unreadable."""
        for name in names:
            if name == self.name:
                return self.image
            if name in self.absent:
                continue
            try:
                path = resolve_inside(self.ctx.root, name, cache=self.ctx.resolved_dirs)
            except UnsafePathError as exc:
                raise LabelError(str(exc)) from None
            if path.is_file():
                try:
                    self.image = decode_image(path.read_bytes(), name=name)
                except (ImageError, OSError) as exc:
                    raise LabelError(str(exc)) from None
                self.name = name
                return self.image
            self.absent.add(name)
        if required:
            raise LabelError(f"image {names[0]!r} does not exist")
        return None


def _vad_of(values: dict[str, Any], file: str, line: int, errors: list[RowError], field: str | None = None
            ) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in VAD:
        try:
            out[name] = vad_value(values.get(name), name)
        except LabelError as exc:
            errors.append(RowError(file, line, field or name, str(exc)))
    return out


def _preprocessed(path: Path, rows, ctx: ImportContext, file: str) -> Iterator[Person | RowError]:
    """mat2py output: <split>.csv with list literals; <split>_body_arr.npy holds the body crops in row order."""
    schema, images = emotic_schema(), _Images(ctx)
    body_path = path.with_name(f"{path.stem}_body_arr.npy")
    body = None
    if body_path.exists():
        try:
            body = load_array(body_path, ndim=(4,))
        except ImageError as exc:
            yield RowError(ctx.rel(body_path), None, None, str(exc))
            return
    position = -1
    for position, (line, row) in enumerate(rows):  # a malformed row keeps its place in the array
        if "__error__" in row:
            yield RowError(file, line, None, row["__error__"])
            continue
        errors: list[RowError] = []
        try:
            emotions = categories(literal_list(row["Categorical_Labels"], "Categorical_Labels"), schema,
                                  "Categorical_Labels")
        except LabelError as exc:
            errors.append(RowError(file, line, "Categorical_Labels", str(exc)))
        try:
            cont = literal_list(row["Continuous_Labels"], "Continuous_Labels")
            if len(cont) != 3:
                raise LabelError(f"Continuous_Labels {cont!r:.60} must hold 3 values [V, A, D]")
            vad = _vad_of(dict(zip(VAD, cont)), file, line, errors, "Continuous_Labels")
        except LabelError as exc:
            errors.append(RowError(file, line, "Continuous_Labels", str(exc)))
        try:
            bbox = body_box(literal_list(row["BBox"], "BBox"), "BBox")
        except LabelError as exc:
            errors.append(RowError(file, line, "BBox", str(exc)))
        filename = row["Filename"].strip()
        source = f"{row.get('Folder', '').strip().strip('/')}/{filename}".lstrip("/")
        try:
            image = images.get([source, f"emotic/{source}"], required=body is None)
        except LabelError as exc:
            errors.append(RowError(file, line, "Filename", str(exc)))
        if body is not None and position >= len(body):
            errors.append(RowError(file, line, None, f"{body_path.name} has {len(body)} crops, none for data "
                                                     f"row {position + 1}"))
        if errors:
            yield from errors
            continue
        raw: dict[str, Any] = {"categories": literal_list(row["Categorical_Labels"], "Categorical_Labels")}
        raw.update({k.lower(): row[k].strip() for k in ("Gender", "Age") if not is_missing(row.get(k))})
        yield Person(file, line, source, filename, emotions, vad, raw, split_from_name(path.name), bbox,
                     None if body is None else _bgr(body[position]), image)
    if body is not None and len(body) > position + 1:
        ctx.warnings.append(f"{ctx.rel(body_path)} has {len(body)} crops for {position + 1} rows of {file}: "
                            "the crops past the last row were not read")


def _category_columns(header: list[str], file: str) -> dict[str, str] | RowError:
    """Kaggle's 0/1 columns, one per category, found by name (either spelling); all 26 required."""
    schema, found = emotic_schema(), {}
    for col in header:
        if col.strip().lower() in NOT_CATEGORIES or col.strip().isdigit():
            continue
        try:
            name = schema.class_name(col)
        except LabelError:
            continue
        if name in found.values():
            return RowError(file, None, col, f"category {name} has two columns")
        found[col] = name
    missing = [c for c in schema.classes if c not in found.values()]
    if missing:
        return RowError(file, None, None, f"no 0/1 column for categor{'y' if len(missing) == 1 else 'ies'} "
                                          f"{', '.join(missing)}")
    return found


def _kaggle(path: Path, header: list[str], rows, ctx: ImportContext, file: str) -> Iterator[Person | RowError]:
    """annots_arrs/annot_arrs_<split>.csv; img_arrs/<Crop_name> is the body crop, <Arr_name> the image."""
    cols = _category_columns(header, file)
    if isinstance(cols, RowError):
        yield cols
        return
    arrays = next((d for d in (path.parent.parent / "img_arrs", path.parent / "img_arrs") if d.is_dir()),
                  path.parent / "img_arrs")
    for line, row in rows:
        if "__error__" in row:
            yield RowError(file, line, None, row["__error__"])
            continue
        errors: list[RowError] = []
        chosen = []
        for col, name in cols.items():
            cell = row[col].strip()
            if cell in ("1", "1.0"):
                chosen.append(name)
            elif cell not in ("0", "0.0", ""):
                errors.append(RowError(file, line, col, f"category cell {cell[:20]!r} is not 0 or 1"))
        vad = _vad_of({k: row[k.capitalize()] for k in VAD}, file, line, errors)
        try:
            bbox = body_box([row[c] for c in ("X_min", "Y_min", "X_max", "Y_max")], "X_min..Y_max")
        except LabelError as exc:
            errors.append(RowError(file, line, "X_min", str(exc)))
        crops = {}
        for col in ("Crop_name", "Arr_name"):
            if col == "Arr_name" and is_missing(row.get(col)):
                continue
            try:
                arr_path = resolve_inside(arrays, row[col].strip(), cache=ctx.resolved_dirs)
                if col == "Arr_name" and not arr_path.exists():
                    continue  # the context image is optional: the crop is searched instead
                crops[col] = _bgr(load_array(arr_path, ndim=(3,)))
            except (UnsafePathError, ImageError) as exc:
                errors.append(RowError(file, line, col, str(exc)))
        if errors:
            yield from errors
            continue
        filename = row["Filename"].strip()
        raw = {"categories": chosen, **({"age": row["Age"].strip()} if not is_missing(row.get("Age")) else {})}
        yield Person(file, line, filename, filename, emotic_schema().check_emotions(chosen), vad, raw,
                     split_from_name(path.name), bbox, crops["Crop_name"], crops.get("Arr_name"))


def _plain_row(row: dict[str, Any], line: int, file: str, split: str | None, images: _Images
               ) -> Person | list[RowError]:
    """A plain row/object: image_path, bbox [x1, y1, x2, y2], categories, valence/arousal/dominance 1..10."""
    schema, errors = emotic_schema(), []
    names = row.get("categories")
    try:
        if isinstance(names, str):
            text = names.strip()
            names = literal_list(text, "categories") if text.startswith("[") else [
                n for n in text.replace("|", ";").split(";") if n.strip()]
        if not isinstance(names, list):
            raise LabelError("categories must be a list of names")
        emotions = categories(names, schema, "categories")
    except LabelError as exc:
        errors.append(RowError(file, line, "categories", str(exc)))
    box = row.get("bbox")
    try:
        bbox = body_box(literal_list(box, "bbox") if isinstance(box, str) else box, "bbox")
    except (LabelError, TypeError) as exc:
        errors.append(RowError(file, line, "bbox", str(exc) if isinstance(exc, LabelError) else "bbox is missing"))
    vad = _vad_of(row, file, line, errors)
    image_path = str(row.get("image_path") or "").strip()
    try:
        image = images.get([image_path], required=True) if image_path else None
        if image is None:
            raise LabelError("image_path is missing")
    except LabelError as exc:
        errors.append(RowError(file, line, "image_path", str(exc)))
    row_split = row.get("split")
    if isinstance(row_split, str) and row_split.strip():
        split = row_split.strip().lower()
        if split not in SPLITS:
            errors.append(RowError(file, line, "split", f"unknown split {split[:40]!r} (train/val/test)"))
    if errors:
        return errors
    subject = str(row.get("subject") or "").strip() or Path(image_path.replace("\\", "/")).name
    return Person(file, line, image_path, subject, emotions, vad, {"categories": list(names)}, split, bbox,
                  None, image)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise LabelError(f"key {next(k for k in keys if keys.count(k) > 1)[:60]!r} appears twice in one object")
    return dict(pairs)


def _plain_json(path: Path, ctx: ImportContext, file: str) -> Iterator[Person | RowError]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"), object_pairs_hook=_no_duplicates)
    except LabelError as exc:
        yield RowError(file, None, None, str(exc))
        return
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        yield RowError(file, None, None, f"not readable JSON ({str(exc)[:120]})")
        return
    if not isinstance(data, list) or not all(isinstance(o, dict) for o in data):
        yield RowError(file, None, None, "expected a JSON list of objects (image_path, bbox, categories, ...)")
        return
    images = _Images(ctx)
    for i, obj in enumerate(data, start=1):  # "line" = the object's 1-based position in the list
        got = _plain_row(obj, i, file, split_from_name(path.name), images)
        yield from got if isinstance(got, list) else [got]


def _people(path: Path, ctx: ImportContext) -> Iterator[Person | RowError]:
    """The people of one annotation file, whichever layout its header shows."""
    file = ctx.rel(path)
    if path.suffix.lower() == ".json":
        yield from _plain_json(path, ctx, file)
        return
    try:
        header, rows = open_table(path, required=[])
    except TableError as exc:
        yield RowError(file, None, None, str(exc))
        return
    if all(c in header for c in PREPROCESSED):
        yield from _preprocessed(path, rows, ctx, file)
    elif all(c in header for c in KAGGLE):
        yield from _kaggle(path, header, rows, ctx, file)
    elif all(c in header for c in PLAIN):
        images = _Images(ctx)
        for line, row in rows:
            if "__error__" in row:
                yield RowError(file, line, None, row["__error__"])
                continue
            got = _plain_row(row, line, file, split_from_name(path.name), images)
            yield from got if isinstance(got, list) else [got]
    else:
        yield RowError(file, None, None, "not an EMOTIC layout: needs the columns "
                                         f"{', '.join(PREPROCESSED)} (preprocessed), {', '.join(KAGGLE)} + one "
                                         f"per category (Kaggle), or {', '.join(PLAIN)} (plain)")


def _annotation_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    folders = [path, path / "annots_arrs"]
    return sorted(p for d in folders if d.is_dir() for p in d.iterdir()
                  if p.is_file() and p.suffix.lower() in (".csv", ".json") and not p.name.startswith("."))


def parse_emotic(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    ctx.root = path if path.is_dir() else path.parent
    if not ctx.options.get("detector"):
        ctx.options["detector"] = "both"  # faces of every size inside body boxes
    files = _annotation_files(path)
    if not files:
        yield RowError(str(path), None, None, "no EMOTIC annotation file (train.csv, annots_arrs/*.csv or "
                                              "a .csv/.json with image_path,bbox,categories) found")
        return
    for ann in files:
        seen: dict[tuple, int] = {}
        faces_of: dict[str, list[list[float]]] = {}  # image -> face boxes its people have
        last_line = None
        for item in _people(ann, ctx):
            if item.line is None or item.line != last_line:  # one row, however many errors it has
                ctx.advance()
                last_line = item.line
            if isinstance(item, RowError):
                yield item
                continue
            key = (item.source, tuple(item.bbox or ()))
            if key in seen:
                yield RowError(item.file, item.line, "bbox", f"the same person ({item.source}, box {item.bbox}) "
                                                            f"is already on line {seen[key]}")
                continue
            seen[key] = item.line
            yield person_sample(item, ctx, faces_of.setdefault(item.source, []))
