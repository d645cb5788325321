"""Plain data types of the face pipeline: a detected face and the 5-point keypoint layout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Order of Face.keypoints rows (the InsightFace/ArcFace 5-point order). "left"/"right" are the
# sides of the image for an upright, unmirrored face, so row 0 is the subject's own right eye.
KEYPOINT_NAMES: tuple[str, ...] = ("left_eye", "right_eye", "nose_tip", "mouth_left", "mouth_right")


@dataclass
class Face:
    """One face in one frame; every coordinate is in that frame's pixels (x right, y down).

    keypoints: (5, 2) float32 in KEYPOINT_NAMES order. From BlazeFace the eyes and nose tip are
    the detector's own points and the mouth corners are estimated from its mouth centre along
    the eye line (mouth width = 0.83 x inter-ocular distance, as in the ArcFace template); from
    the Haar fallback all five are estimated from the box. When the dense mesh is computed the
    pipeline replaces them with mesh points (eye centres, nose tip, true mouth corners).
    landmarks: (468, 3) MediaPipe face-mesh points; z is depth in the same pixel scale as x
    (smaller = nearer the camera), relative to the face centre.
    """

    bbox: tuple[float, float, float, float]  # x, y, w, h
    score: float  # detector confidence in [0, 1]
    keypoints: np.ndarray
    landmarks: np.ndarray | None = None
    quality: float | None = None  # [0, 1], see core.faces.quality
    presence: float | None = None  # face-mesh presence score in [0, 1], when computed

    @property
    def center(self) -> tuple[float, float]:
        x, y, w, h = self.bbox
        return x + w / 2, y + h / 2

    @property
    def eye_distance(self) -> float:
        """Inter-ocular distance in pixels (the face's scale for alignment and quality)."""
        return float(np.linalg.norm(self.keypoints[1] - self.keypoints[0]))


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter) if inter > 0 else 0.0
