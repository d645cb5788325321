"""Small geometry helpers shared by the face-pipeline tests."""

from __future__ import annotations

import numpy as np


def iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def inside_box(points: np.ndarray, bbox, pad: float = 0.0) -> np.ndarray:
    """Boolean mask of points inside the box enlarged by pad x its size on every side."""
    x, y, w, h = bbox
    x0, y0, x1, y1 = x - pad * w, y - pad * h, x + w + pad * w, y + h + pad * h
    return (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
