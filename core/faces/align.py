"""Similarity alignment of a face to a whole-face canonical crop (forehead to chin, FER-style)."""

from __future__ import annotations

import cv2
import numpy as np

from core.faces.crop import CANONICAL_SIZE
from core.faces.io import to_bgr

# ArcFace's 5-point template (InsightFace, 112x112) as fractions of the crop side, in the
# KEYPOINT_NAMES order. It is a tight crop (chin and forehead cut), so we only borrow its
# point layout and place it inside a larger, whole-face square below.
ARCFACE_5 = (
    np.array(
        [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
        dtype=np.float64,
    )
    / 112.0
)

# Extent of the 468-point face mesh (cheek to cheek, upper forehead to chin) in those same
# ArcFace units, averaged over the 13 faces of the bundled photos after a similarity fit of
# their 5 points: x 0.15..0.89, y 0.21..1.05. The face box is the square of side FACE_SIDE
# (the mesh height) around FACE_CENTER.
FACE_CENTER = np.array([0.5, 0.63])
FACE_SIDE = 0.84
# Context added on every side, as a fraction of FACE_SIDE. Margins -0.1..0.3 were tried with the
# FER2013 mini-Xception on 12 bundled faces of known expression; 0.0-0.05 scored best among
# crops that keep the whole face (weak evidence: few faces).
DEFAULT_MARGIN = 0.05


def template(size: int, *, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """(5, 2) float32 canonical keypoints for a size x size crop.

    margin 0 puts the upper forehead on the top edge and the chin on the bottom edge; the
    default 0.05 gives eyes at y = 0.32 * size, the chin at 0.95 * size and an inter-ocular
    distance of 0.34 * size (FER2013-like: whole face, little background).
    """
    side = FACE_SIDE * (1.0 + 2.0 * margin)
    return (((ARCFACE_5 - FACE_CENTER) / side + 0.5) * size).astype(np.float32)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) mapping src onto dst (Umeyama
    1991, reflection excluded), as a 2x3 matrix."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s_c, d_c = src - mu_s, dst - mu_d
    cov = d_c.T @ s_c / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rot = u @ fix @ vt
    var_s = (s_c**2).sum() / len(src)
    scale = float((sig * np.diag(fix)).sum() / var_s) if var_s > 0 else 1.0
    shift = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, shift[:, None]])


def alignment_matrix(keypoints: np.ndarray, *, size: int = CANONICAL_SIZE, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """2x3 matrix taking frame pixels to the aligned crop (apply it to any frame points)."""
    return similarity(np.asarray(keypoints)[:5, :2], template(size, margin=margin))


def _shrink_first(frame: np.ndarray, m: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """When the warp shrinks more than 2x, halve just the face region with cv2.pyrDown (a
    Gaussian pyramid) first so the bilinear warp does not alias; returns that region and the
    matrix adjusted to it."""
    scale = float(np.hypot(m[0, 0], m[0, 1]))
    levels = 0
    while scale * 2**levels < 0.5:
        levels += 1
    if levels == 0:
        return frame, m
    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
    src = corners @ inv[:, :2].T + inv[:, 2]
    pad = 3 * 2**levels
    h, w = frame.shape[:2]
    x0, y0 = (np.floor(src.min(axis=0)) - pad).astype(int)
    x1, y1 = (np.ceil(src.max(axis=0)) + pad).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2**levels or y1 - y0 < 2**levels:
        return frame, m
    small = frame[y0:y1, x0:x1]
    for _ in range(levels):  # pyrDown: output pixel i sits on input pixel 2i
        small = cv2.pyrDown(small)
    adj = m.copy()
    adj[:, :2] = m[:, :2] * 2**levels
    adj[:, 2] = m[:, 2] + m[:, 0] * x0 + m[:, 1] * y0
    return small, adj


def align_face(
    frame_bgr: np.ndarray,
    keypoints: np.ndarray,
    *,
    size: int = CANONICAL_SIZE,
    gray: bool = False,
    margin: float = DEFAULT_MARGIN,
) -> np.ndarray:
    """Warp the face onto the canonical template: (size, size, 3) BGR uint8, or (size, size)
    gray uint8 when gray=True. Areas outside the frame repeat its edge pixels. Stored and served
    crops use the defaults (the canonical crop); models resize from it with resize_crop."""
    frame = to_bgr(frame_bgr)
    m = alignment_matrix(keypoints, size=size, margin=margin)
    src, m = _shrink_first(frame, m, size)
    crop = cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if gray else crop
