"""Draw face predictions on BGR frames (pure numpy/OpenCV): box, label, bars, V/A inset, stress gauge.

Every drawer writes into the frame it is given and returns it. Outputs that come from the
emotion-derived prior instead of a trained head carry "(prior)" in their text and are drawn
hollow, so nobody mistakes them for measurements.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from core.inference.prediction import FacePrediction

ACCENT = (255, 0, 255)  # BGR magenta: box, label background, top bar (rare in real video)
WHITE, BLACK, GRAY = (255, 255, 255), (0, 0, 0), (160, 160, 160)
FONT = cv2.FONT_HERSHEY_SIMPLEX
INSET = 96  # side of the circumplex inset, pixels
MARGIN = 8


@dataclass(frozen=True)
class OverlayOptions:
    """Which overlays draw_overlays paints (each toggleable from the Live page)."""

    box: bool = True  # face rectangle
    label: bool = True  # "Happy 87%" above the box
    bars: bool = False  # per-class probability bars beside the box
    circumplex: bool = True  # V/A point on a small circumplex inset (bottom right)
    stress: bool = True  # stress gauge (bottom left)
    numbers: bool = True  # "1", "2" ... on each face when there are several (rows of the table)


def is_prior(pred: FacePrediction, head: str) -> bool:
    return pred.flags.get(head) == "prior"


def emotion_text(pred: FacePrediction) -> str:
    """'Happy 82%'; multi-label: every category above its threshold ('Anger, Fear'); a
    distribution: its two most probable classes ('Happy 60%, Sad 30%')."""
    suffix = "" if pred.flags.get("emotion", "trained") == "trained" else f" ({pred.flags['emotion']})"
    if pred.mode == "multi":
        return (", ".join(pred.emotions or []) or "no category") + suffix
    if pred.mode == "distribution":
        top = sorted(pred.probs.items(), key=lambda kv: -kv[1])[:2]
        return ", ".join(f"{c} {p:.0%}" for c, p in top if p > 0) + suffix
    return f"{pred.emotion} {pred.confidence:.0%}{suffix}"


def traits_text(pred: FacePrediction) -> str:
    """Dominance and named targets, an untrained head marked: 'dominance +0.20 · openness 0.61
    (untrained)'; '' when the model has none."""
    values = ({"dominance": pred.dominance} if pred.dominance is not None else {}) | dict(pred.targets)
    parts = []
    for k, v in values.items():
        flag = pred.flags.get(k, "trained")
        parts.append(f"{k} {v:+.2f}" if k == "dominance" else f"{k} {v:.2f}")
        parts[-1] += "" if flag == "trained" else f" ({flag})"
    return " · ".join(parts)


def va_text(pred: FacePrediction) -> str:
    return "V/A (prior)" if is_prior(pred, "va") else "V/A"


def stress_text(pred: FacePrediction) -> str:
    return f"Stress{' (prior)' if is_prior(pred, 'stress') else ''} {pred.stress:.2f}"


Box = tuple[int, int, int, int]  # x, y, w, h in pixels


def _box(pred: FacePrediction) -> tuple[int, int, int, int] | None:
    if pred.bbox is None:
        return None
    x, y, w, h = (int(round(v)) for v in pred.bbox)
    return x, y, w, h


def _text(frame: np.ndarray, text: str, org: tuple[int, int], *, scale: float = 0.5,
          color: tuple[int, int, int] = WHITE, bg: tuple[int, int, int] | None = BLACK) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x, y = org
    if bg is not None:
        cv2.rectangle(frame, (x - 2, y - th - 3), (x + tw + 2, y + base), bg, cv2.FILLED)
    cv2.putText(frame, text, (x, y), FONT, scale, color, 1, cv2.LINE_AA)


def draw_box(frame: np.ndarray, pred: FacePrediction, *, thickness: int = 3) -> np.ndarray:
    box = _box(pred)
    if box is not None:
        x, y, w, h = box
        cv2.rectangle(frame, (x, y), (x + w, y + h), ACCENT, thickness)
    return frame


def label_text(pred: FacePrediction, number: int | None = None) -> str:
    return emotion_text(pred) if number is None else f"{number}: {emotion_text(pred)}"


def _label_origin(pred: FacePrediction) -> tuple[int, int]:
    box = _box(pred)
    x, y = (box[0], box[1] - 8) if box else (MARGIN, 24)
    return max(x, 2), max(y, 16)


def label_box(pred: FacePrediction, number: int | None = None) -> Box:
    """The area draw_label fills, as (x, y, w, h)."""
    (tw, th), base = cv2.getTextSize(label_text(pred, number), FONT, 0.6, 1)
    x, y = _label_origin(pred)
    return x - 2, y - th - 3, tw + 4, th + 3 + base


def draw_label(frame: np.ndarray, pred: FacePrediction, *, number: int | None = None) -> np.ndarray:
    """"Happy 87%" above the box; "2: Happy 87%" when the face is numbered."""
    _text(frame, label_text(pred, number), _label_origin(pred), scale=0.6, color=WHITE, bg=ACCENT)
    return frame


def draw_number(frame: np.ndarray, pred: FacePrediction, number: int) -> np.ndarray:
    """The face's number in a filled badge inside the top-left corner of its box."""
    box = _box(pred)
    if box is not None:
        _text(frame, str(number), (box[0] + 6, box[1] + 22), scale=0.7, color=WHITE, bg=ACCENT)
    return frame


def overlap_area(a: Box, b: Box) -> int:
    """Pixels two (x, y, w, h) boxes share."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


FACE_WEIGHT = 10  # a pixel of a face counts as this many pixels of a label or another panel


def panel_origin(box: Box, size: tuple[int, int], frame_size: tuple[int, int], avoid: Sequence[Box]
                 = (), *, soft: Sequence[Box] = (), gap: int = 10) -> tuple[int, int]:
    """Top-left corner of a (w, h) panel beside a face box in a (width, height) frame.

    Tries right of the box, left, below, above, and right/left bottom-aligned; each is moved
    inside the frame and costs the pixels it covers of the face itself and the `avoid` boxes
    (the other faces), FACE_WEIGHT each, plus those of the `soft` boxes (labels, panels already
    placed). The first that covers nothing wins, else the cheapest.
    """
    (pw, ph), (fw, fh) = size, frame_size
    x, y, w, h = box
    candidates = [(x + w + gap, y), (x - gap - pw, y), (x, y + h + gap), (x, y - gap - ph),
                  (x + w + gap, y + h - ph), (x - gap - pw, y + h - ph)]
    best, best_cost = candidates[0], None
    for cx, cy in candidates:
        cx, cy = min(max(cx, 0), max(fw - pw, 0)), min(max(cy, 0), max(fh - ph, 0))
        panel = (cx, cy, pw, ph)
        cost = (FACE_WEIGHT * sum(overlap_area(panel, b) for b in (box, *avoid))
                + sum(overlap_area(panel, b) for b in soft))
        if best_cost is None or cost < best_cost:
            best, best_cost = (cx, cy), cost
        if cost == 0:
            break
    return best


def bars_size(pred: FacePrediction, *, width: int = 90, row: int = 14) -> tuple[int, int]:
    """(w, h) of draw_bars' panel: the bars and their class names."""
    names = max((cv2.getTextSize(n[:8], FONT, 0.38, 1)[0][0] for n in pred.probs), default=0)
    return width + 4 + names, row * len(pred.probs)


def draw_bars(frame: np.ndarray, pred: FacePrediction, *, width: int = 90, row: int = 14,
              origin: tuple[int, int] | None = None) -> np.ndarray:
    """One bar per class with its top-left corner at origin (default: right of the face box;
    the frame's top-left corner without a box). draw_overlays picks origin with panel_origin."""
    box = _box(pred)
    if origin is None:
        origin = (box[0] + box[2] + 10, box[1]) if box else (MARGIN, 40)
    x0, y0 = origin
    for i, (name, p) in enumerate(pred.probs.items()):
        y = y0 + i * row
        cv2.rectangle(frame, (x0, y), (x0 + width, y + row - 3), BLACK, cv2.FILLED)
        color = ACCENT if name == pred.emotion else GRAY
        cv2.rectangle(frame, (x0, y), (x0 + int(round(width * float(p))), y + row - 3), color, cv2.FILLED)
        _text(frame, name[:8], (x0 + width + 4, y + row - 4), scale=0.38, bg=None)
    return frame


def circumplex_point(valence: float, arousal: float, *, origin: tuple[int, int], size: int = INSET
                     ) -> tuple[int, int]:
    """Pixel of (valence, arousal) in an inset whose top-left corner is origin (arousal up)."""
    r = size / 2 - 6
    cx, cy = origin[0] + size / 2, origin[1] + size / 2
    v, a = float(np.clip(valence, -1, 1)), float(np.clip(arousal, -1, 1))
    return int(round(cx + v * r)), int(round(cy - a * r))


def draw_circumplex(frame: np.ndarray, preds: Sequence[FacePrediction], *, size: int = INSET) -> np.ndarray:
    """Inset in the bottom-right corner: unit circle, axes, one point per face (hollow = prior)."""
    h, w = frame.shape[:2]
    ox, oy = w - size - MARGIN, h - size - MARGIN - 16
    if ox < 0 or oy < 0:
        return frame  # frame too small for an inset
    sub = frame[oy:oy + size, ox:ox + size]
    sub[:] = (sub * 0.4).astype(frame.dtype)  # darken under the inset for contrast
    c = (ox + size // 2, oy + size // 2)
    cv2.circle(frame, c, size // 2 - 6, GRAY, 1, cv2.LINE_AA)
    cv2.line(frame, (ox + 4, c[1]), (ox + size - 4, c[1]), GRAY, 1)
    cv2.line(frame, (c[0], oy + 4), (c[0], oy + size - 4), GRAY, 1)
    for pred in preds:
        p = circumplex_point(pred.valence, pred.arousal, origin=(ox, oy), size=size)
        cv2.circle(frame, p, 5, ACCENT, 2 if is_prior(pred, "va") else cv2.FILLED, cv2.LINE_AA)
    label = va_text(preds[0]) if preds else "V/A"
    _text(frame, label, (ox, oy + size + 14), scale=0.45)
    return frame


def stress_color(stress: float) -> tuple[int, int, int]:
    """Green (0) through yellow to red (1), BGR."""
    s = float(np.clip(stress, 0, 1))
    return 0, int(round(255 * min(1.0, 2 * (1 - s)))), int(round(255 * min(1.0, 2 * s)))


def draw_stress(frame: np.ndarray, pred: FacePrediction, *, width: int = 120, height: int = 12) -> np.ndarray:
    """Gauge in the bottom-left corner; a prior is an outlined bar, a trained head a filled one."""
    h = frame.shape[0]
    x, y = MARGIN, h - MARGIN - height
    cv2.rectangle(frame, (x, y), (x + width, y + height), BLACK, cv2.FILLED)
    fill = int(round(width * float(np.clip(pred.stress, 0, 1))))
    prior = is_prior(pred, "stress")
    cv2.rectangle(frame, (x, y), (x + fill, y + height), stress_color(pred.stress),
                  2 if prior else cv2.FILLED)
    cv2.rectangle(frame, (x, y), (x + width, y + height), GRAY, 1)
    _text(frame, stress_text(pred), (x, y - 6), scale=0.45)
    return frame


def draw_overlays(frame: np.ndarray, preds: Sequence[FacePrediction], options: OverlayOptions
                  = OverlayOptions()) -> np.ndarray:
    """Every enabled overlay for every face; frame-level insets describe the first face. With
    several faces each is numbered 1, 2 ... in prediction order (the rows of a results table).
    Probability bars go beside their face, off the other faces (and, where there is room, off
    the labels and the panels placed before them)."""
    boxes = [_box(p) for p in preds]
    numbered = options.numbers and len(preds) > 1
    numbers = [i + 1 if numbered else None for i in range(len(preds))]
    soft = [label_box(p, n) for p, n in zip(preds, numbers)] if options.label else []
    size = (frame.shape[1], frame.shape[0])
    for i, pred in enumerate(preds):
        if options.box:
            draw_box(frame, pred)
        if options.bars:
            origin = None
            if boxes[i] is not None:  # beside the face, off the others, their labels and panels
                panel = bars_size(pred)
                others = [b for j, b in enumerate(boxes) if j != i and b is not None]
                origin = panel_origin(boxes[i], panel, size, others, soft=soft)
                soft.append((*origin, *panel))
            draw_bars(frame, pred, origin=origin)
        if options.label:
            draw_label(frame, pred, number=numbers[i])
        elif numbers[i] is not None and options.box:
            draw_number(frame, pred, numbers[i])
    if preds and options.circumplex:
        draw_circumplex(frame, preds)
    if preds and options.stress:
        draw_stress(frame, preds[0])
    return frame
