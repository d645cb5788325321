"""Conversions from detector points, boxes and the face mesh to the 5-point layout."""

from __future__ import annotations

import numpy as np

# Half mouth width / inter-ocular distance in the ArcFace 5-point template (29.18 / 35.24 / 2).
MOUTH_HALF_WIDTH = 0.414

# Mean 5 points of frontal faces relative to a Haar frontal-face box, (x, y) as fractions of the
# box side; BlazeFace points on 10 real faces of the bundled photos, averaged and symmetrised.
HAAR_BOX_POINTS = np.array(
    [[0.310, 0.410], [0.690, 0.410], [0.500, 0.610], [0.343, 0.790], [0.657, 0.790]], dtype=np.float32
)

# Face-mesh indices (468-point topology) averaged into each of the 5 points.
MESH_EYE_IMAGE_LEFT = (33, 133, 159, 145)  # subject's right eye: corners and lids
MESH_EYE_IMAGE_RIGHT = (263, 362, 386, 374)  # subject's left eye
MESH_NOSE_TIP = 1
MESH_MOUTH_LEFT, MESH_MOUTH_RIGHT = 61, 291


def from_blazeface(points: np.ndarray) -> np.ndarray:
    """(6, 2) BlazeFace points (right eye, left eye, nose tip, mouth centre, right and left ear
    tragion, the subject's sides) -> (5, 2) KEYPOINT_NAMES layout; the tragions are dropped."""
    p = np.asarray(points, dtype=np.float32)
    eye_vec = p[1] - p[0]
    mouth = p[3]
    out = np.stack([p[0], p[1], p[2], mouth - MOUTH_HALF_WIDTH * eye_vec, mouth + MOUTH_HALF_WIDTH * eye_vec])
    return out.astype(np.float32)


def from_box(bbox: tuple[float, float, float, float]) -> np.ndarray:
    """Estimate the 5 points of an upright frontal face from its Haar box."""
    x, y, w, h = bbox
    return (HAAR_BOX_POINTS * np.array([w, h], dtype=np.float32) + np.array([x, y], dtype=np.float32)).astype(
        np.float32
    )


def from_mesh(mesh: np.ndarray) -> np.ndarray:
    """(468, 2 or 3) face mesh -> (5, 2): eye centres, nose tip, mouth corners."""
    xy = np.asarray(mesh, dtype=np.float32)[:, :2]
    return np.stack(
        [
            xy[list(MESH_EYE_IMAGE_LEFT)].mean(axis=0),
            xy[list(MESH_EYE_IMAGE_RIGHT)].mean(axis=0),
            xy[MESH_NOSE_TIP],
            xy[MESH_MOUTH_LEFT],
            xy[MESH_MOUTH_RIGHT],
        ]
    ).astype(np.float32)
