"""Face quality in [0, 1] from size, sharpness, confidence and pose (a weighted geometric mean)."""

from __future__ import annotations

import cv2
import numpy as np

from core.faces.align import align_face
from core.faces.crop import CANONICAL_SIZE, resize_crop
from core.faces.types import Face

# face box side (px) scoring 0 and 1: from the canonical crop's side up, a face is stored and
# served without being enlarged
MIN_SIDE, FULL_SIDE = 24.0, float(CANONICAL_SIZE)
SHARPNESS_HALF = 300.0  # variance of Laplacian scoring 0.5 (bundled photos: sharp faces 580-1820, blur 3 px 40-320)
SHARPNESS_SIZE = 64  # sharpness is measured on the canonical crop resized to this gray size
MAX_YAW = 0.5  # nose offset from the eye midpoint, in inter-ocular distances, scoring 0

# exponents of the weighted geometric mean (they sum to 1)
WEIGHTS = {"size": 0.25, "sharpness": 0.35, "confidence": 0.25, "pose": 0.15}


def _size_score(face: Face) -> float:
    side = float(np.sqrt(max(face.bbox[2], 0.0) * max(face.bbox[3], 0.0)))
    if side <= MIN_SIDE:
        return 0.0
    return float(min(1.0, np.log(side / MIN_SIDE) / np.log(FULL_SIDE / MIN_SIDE)))


def _pose_score(face: Face) -> float:
    left, right, nose = (face.keypoints[i].astype(np.float64) for i in range(3))
    eye_vec = right - left
    iod = float(np.linalg.norm(eye_vec))
    if iod < 1e-6:
        return 0.0
    yaw = abs(float(np.dot(nose - (left + right) / 2, eye_vec / iod))) / iod
    return float(np.clip(1.0 - yaw / MAX_YAW, 0.0, 1.0))


def sharpness(frame_bgr: np.ndarray, face: Face, *, crop: np.ndarray | None = None) -> float:
    """Variance of the Laplacian of the canonical crop resized to 64x64 gray (scale-normalised
    blur). crop: the face's canonical crop (align_face with its defaults) when the caller already
    has it, so the face is not warped twice."""
    if crop is None:
        crop = align_face(frame_bgr, face.keypoints)
    small = resize_crop(crop, SHARPNESS_SIZE, gray=True)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


def quality_components(
    frame_bgr: np.ndarray, face: Face, *, landmarks_presence: float | None = None,
    crop: np.ndarray | None = None,
) -> dict[str, float]:
    """Each component in [0, 1], plus the raw Laplacian variance:

    size        log-scaled face box side, 0 at <= 24 px, 1 at >= 112 px (the canonical crop)
    sharpness   v / (v + 300), v = variance of Laplacian of the canonical crop at 64x64 gray
    confidence  face-mesh presence when given (visibility / occlusion proxy), else detector score
    pose        1 - yaw / 0.5, yaw = |nose offset from the eye midpoint along the eye line| / IOD
    """
    v = sharpness(frame_bgr, face, crop=crop)
    conf = face.score if landmarks_presence is None else landmarks_presence
    return {
        "size": _size_score(face),
        "sharpness": v / (v + SHARPNESS_HALF),
        "confidence": float(np.clip(conf, 0.0, 1.0)),
        "pose": _pose_score(face),
        "laplacian_var": v,
    }


def combine(components: dict[str, float]) -> float:
    """quality = size^0.25 * sharpness^0.35 * confidence^0.25 * pose^0.15 (0 if any is 0)."""
    q = 1.0
    for name, weight in WEIGHTS.items():
        q *= max(components[name], 0.0) ** weight
    return float(np.clip(q, 0.0, 1.0))


def quality_score(frame_bgr: np.ndarray, face: Face, *, landmarks_presence: float | None = None,
                  crop: np.ndarray | None = None) -> float:
    """Overall quality in [0, 1]; see quality_components and combine for the formula. crop: the
    face's canonical crop when already aligned."""
    return combine(quality_components(frame_bgr, face, landmarks_presence=landmarks_presence,
                                      crop=crop))
