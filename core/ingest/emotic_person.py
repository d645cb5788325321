"""One EMOTIC person -> one sample: the face found inside the body box, else the body crop, flagged."""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from core.faces.types import iou
from core.ingest.context import ImportContext
from core.ingest.media_import import detect_faces
from core.ingest.records import PendingSample, RowError
from core.label_schema import LabelSchema, to_unit_scale
from core.taxonomy import LabelError

VAD_SCALE = (1.0, 10.0)
MAX_CELL = 4096  # longest list literal read (26 names fit in ~350 characters)
MAX_BODY_SIDE = 512  # body crops are stored at most this large
NO_FACE_FLAG = "no visible face: body crop"
_NAN = re.compile(r"\b(nan|NaN|NAN)\b")


@dataclass
class Person:
    """What a row of any EMOTIC layout says about one person (labels parsed, images loaded)."""
    file: str
    line: int
    source: str  # the image the person is in (Folder/Filename or image_path)
    subject: str  # group: the image's file name (one image can hold several people)
    emotions: list[str]
    vad: dict[str, float | None]  # on 1..10, None = missing
    raw: dict[str, Any] = field(default_factory=dict)
    split: str | None = None
    bbox: list[float] | None = None  # x1, y1, x2, y2 in the full image
    body: np.ndarray | None = None  # BGR body crop from an array release
    image: np.ndarray | None = None  # BGR full image, when present


def literal_list(cell: str, what: str) -> list[Any]:
    """A list literal read with ast.literal_eval only (NaN read as None); LabelError otherwise."""
    text = (cell or "").strip()
    if len(text) > MAX_CELL:
        raise LabelError(f"{what} is {len(text)} characters long, more than {MAX_CELL}")
    try:
        value = ast.literal_eval(_NAN.sub("None", text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise LabelError(f"{what} {text[:60]!r} is not a list literal like \"['Happiness', 'Peace']\"") from None
    if not isinstance(value, (list, tuple)):
        raise LabelError(f"{what} {text[:60]!r} is not a list")
    return list(value)


def categories(names: list[Any], schema: LabelSchema, what: str) -> list[str]:
    """EMOTIC category names (either spelling) in class order; codes are refused (two orders exist)."""
    out = []
    for name in names:
        if not isinstance(name, str) or name.strip().lstrip("-").isdigit():
            raise LabelError(f"{what}: {str(name)[:40]!r} is not a category name (EMOTIC ships in two "
                             "category orders, so codes are not read)")
        try:
            out.append(schema.class_name(name))
        except LabelError:
            raise LabelError(f"{what}: unknown category {name[:40]!r} (EMOTIC-26: "
                             f"{', '.join(schema.classes)})") from None
    return schema.check_emotions(out)


def vad_value(value: Any, what: str) -> float | None:
    """A V/A/D value on 1..10; None or NaN is missing (None)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "nan", "na", "none")):
        return None
    if isinstance(value, bool):
        raise LabelError(f"{what} {value!r} is not a number")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise LabelError(f"{what} {str(value)[:40]!r} is not a number") from None
    if math.isnan(x):
        return None
    if not VAD_SCALE[0] <= x <= VAD_SCALE[1]:
        raise LabelError(f"{what} {x:g} is outside the EMOTIC scale 1..10")
    return x


def body_box(values: list[Any], what: str) -> list[float]:
    """[x1, y1, x2, y2] with x2 > x1 and y2 > y1."""
    try:
        box = [float(v) for v in values]
    except (TypeError, ValueError):
        raise LabelError(f"{what} {values!r:.60} must hold 4 numbers x1, y1, x2, y2") from None
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise LabelError(f"{what} {values!r:.60} must hold 4 finite numbers x1, y1, x2, y2")
    if box[2] <= box[0] or box[3] <= box[1]:
        raise LabelError(f"{what} {box} is empty (x2 <= x1 or y2 <= y1)")
    return box


def _region(p: Person) -> tuple[np.ndarray, tuple[float, float, float, float]] | RowError:
    """The body pixels and the map back to full-image coordinates (x0, y0, scale x, scale y).
    The full image is used when the box fits it (one pixel of rounding allowed), else the crop array."""
    if p.image is not None and p.bbox is not None:
        h, w = p.image.shape[:2]
        x1, y1 = max(0, int(p.bbox[0])), max(0, int(p.bbox[1]))
        x2, y2 = min(w, int(math.ceil(p.bbox[2]))), min(h, int(math.ceil(p.bbox[3])))
        fits = p.bbox[2] <= w + 1 and p.bbox[3] <= h + 1 and x2 - x1 >= 2 and y2 - y1 >= 2
        if fits:
            return np.ascontiguousarray(p.image[y1:y2, x1:x2]), (x1, y1, 1.0, 1.0)
        if p.body is None:
            return RowError(p.file, p.line, "bbox", f"body box {p.bbox} does not fit the {w}x{h} image")
    if p.body is not None:
        if p.bbox is None:
            return p.body, (0.0, 0.0, 1.0, 1.0)
        bh, bw = p.body.shape[:2]  # the array release resized the box to its crop size
        return p.body, (p.bbox[0], p.bbox[1], (p.bbox[2] - p.bbox[0]) / bw, (p.bbox[3] - p.bbox[1]) / bh)
    return RowError(p.file, p.line, "image", f"neither a body crop array nor the image {p.source!r} is present")


def _shrunk(image: np.ndarray) -> np.ndarray:
    side = max(image.shape[:2])
    if side <= MAX_BODY_SIDE:
        return image
    f = MAX_BODY_SIDE / side
    return cv2.resize(image, (max(1, round(image.shape[1] * f)), max(1, round(image.shape[0] * f))),
                      interpolation=cv2.INTER_AREA)


def _own_face(region: np.ndarray, ctx: ImportContext, to_image: tuple[float, float, float, float],
              taken: list[list[float]]) -> tuple[Any, list[float]] | None:
    """The person's face in the body region and its box in the image: faces in the box's upper half
    first, then by detector score; a face another person of the image already has (overlapping body
    boxes: IoU > 0.5 in image coordinates) is not taken twice."""
    x0, y0, sx, sy = to_image
    h = region.shape[0]
    for fc in sorted(detect_faces(region, ctx), key=lambda fc: (fc.face.center[1] > h / 2, -fc.face.score)):
        fx, fy, fw, fh = (float(v) for v in fc.face.bbox)
        box = [x0 + fx * sx, y0 + fy * sy, fw * sx, fh * sy]
        if all(iou(tuple(box), tuple(other)) <= 0.5 for other in taken):
            return fc, box
    return None


def person_sample(p: Person, ctx: ImportContext, taken: list[list[float]]) -> PendingSample | RowError:
    """The person's face crop (quality and detector score kept) or, with no face visible, the body crop.
    taken: the face boxes other people of the same image got. options["find_faces"]=False stores
    body crops only (flagged), e.g. to import labels fast and find faces later."""
    got = _region(p)
    if isinstance(got, RowError):
        return got
    region, (x0, y0, sx, sy) = got
    own = _own_face(region, ctx, (x0, y0, sx, sy), taken) if ctx.options.get("find_faces", True) else None
    raw = dict(p.raw, valence=p.vad["valence"], arousal=p.vad["arousal"], dominance=p.vad["dominance"],
               scale={"vad": "1..10"})
    labels = {k: None if v is None else to_unit_scale(v, VAD_SCALE) for k, v in p.vad.items()}
    if own is not None:
        fc, bbox = own
        face = fc.face
        sha, rel = ctx.blobs.put_crop_array(fc.crop)
        taken.append(bbox)
        kps = [[round(x0 + float(x) * sx, 2), round(y0 + float(y) * sy, 2)] for x, y in np.asarray(face.keypoints)]
        raw.update(face_visible=True, face_score=round(float(face.score), 4))
        return PendingSample(crop_sha256=sha, crop_path=rel, source_path=p.source, emotions=p.emotions,
                             raw=raw, subject=p.subject, split=p.split, bbox=bbox, keypoints=kps,
                             quality=None if face.quality is None else float(face.quality), **labels)
    sha, rel = ctx.blobs.put_crop_array(_shrunk(region))
    bbox = None if p.bbox is None else [p.bbox[0], p.bbox[1], p.bbox[2] - p.bbox[0], p.bbox[3] - p.bbox[1]]
    raw.update(face_visible=False)
    return PendingSample(crop_sha256=sha, crop_path=rel, source_path=p.source, emotions=p.emotions, raw=raw,
                         subject=p.subject, split=p.split, bbox=bbox, flag=NO_FACE_FLAG, **labels)
