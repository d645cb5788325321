"""Alignment: template geometry, output shapes, eyes landing on the template, whole-face crops."""

from __future__ import annotations

import cv2
import numpy as np

from core.faces import align_face, template
from core.faces.align import alignment_matrix, similarity


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts[:, :2] @ m[:, :2].T + m[:, 2]


def test_template_geometry():
    for size in (64, 112, 224):
        t = template(size)
        assert t.shape == (5, 2) and ((t > 0) & (t < size)).all()
        assert abs(t[0, 1] - t[1, 1]) < 0.01 * size  # eyes level
        assert abs((t[0, 0] + t[1, 0]) / 2 - size / 2) < 0.01 * size  # centred
        assert t[2, 1] > t[0, 1] and t[3, 1] > t[2, 1]
    np.testing.assert_allclose(template(224), 2 * template(112), rtol=1e-5)
    assert template(112, margin=0.3)[1, 0] - template(112, margin=0.3)[0, 0] < (
        template(112)[1, 0] - template(112)[0, 0]
    )


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(5, 2)) * 40 + 200
    angle, scale = 0.4, 0.7
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    m = similarity(src, src @ rot.T + [3.0, -9.0])
    np.testing.assert_allclose(m, np.hstack([rot, [[3.0], [-9.0]]]), atol=1e-9)


def test_output_shapes(detector, single_face):
    k = detector.detect(single_face)[0].keypoints
    color = align_face(single_face, k)
    gray = align_face(single_face, k, size=64, gray=True)
    assert color.shape == (112, 112, 3) and color.dtype == np.uint8
    assert gray.shape == (64, 64) and gray.dtype == np.uint8
    assert align_face(cv2.cvtColor(single_face, cv2.COLOR_BGR2GRAY), k).shape == (112, 112, 3)


def test_keypoints_land_on_template(detector, single_face):
    k = detector.detect(single_face)[0].keypoints
    err = np.linalg.norm(_apply(alignment_matrix(k, size=112), k) - template(112), axis=1)
    assert err[:2].max() < 0.05 * 112  # eyes


def test_redetected_eyes_near_template_even_when_rolled(detector, single_face):
    h, w = single_face.shape[:2]
    rolled = cv2.warpAffine(
        single_face, cv2.getRotationMatrix2D((w / 2, h / 2), 25, 1.0), (w, h), borderMode=cv2.BORDER_REPLICATE
    )
    size = 224
    for frame in (single_face, rolled):
        crop = align_face(frame, detector.detect(frame)[0].keypoints, size=size)
        again = detector.detect(crop)
        assert len(again) == 1
        err = np.linalg.norm(again[0].keypoints[:2] - template(size)[:2], axis=1)
        assert err.max() < 0.07 * size


def test_crop_holds_the_whole_face(detector, landmark_model, single_face):
    face = detector.detect(single_face)[0]
    mesh, _ = landmark_model.landmarks(single_face, face)
    pts = _apply(alignment_matrix(face.keypoints, size=112), mesh)
    inside = ((pts >= 0) & (pts <= 112)).all(axis=1)
    assert inside.mean() > 0.97  # forehead to chin, cheek to cheek
    top, chin = pts[10, 1], pts[152, 1]  # mesh forehead top and chin
    assert top > 0 and chin < 112 and chin - top > 0.7 * 112  # the face fills the crop


def test_large_downscale_is_antialiased(detector, single_face):
    k = detector.detect(single_face)[0].keypoints
    big = cv2.resize(single_face, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    a = align_face(single_face, k, size=64, gray=True).astype(np.float32)
    b = align_face(big, k * 4 + 1.5, size=64, gray=True).astype(np.float32)
    assert np.abs(a - b).mean() < 6
