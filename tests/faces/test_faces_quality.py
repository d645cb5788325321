"""Quality score: range, the components, sharp vs blurred, small faces, presence and pose."""

from __future__ import annotations

from dataclasses import replace

import cv2

from core.faces import quality_components, quality_score
from core.faces.quality import combine


def test_sharp_face_beats_blurred_copy(detector, single_face):
    face = detector.detect(single_face)[0]
    blurred = cv2.GaussianBlur(single_face, (0, 0), 4)
    sharp_q, blur_q = quality_score(single_face, face), quality_score(blurred, face)
    assert 0.0 <= blur_q < sharp_q <= 1.0
    assert sharp_q - blur_q > 0.15
    sharp_c, blur_c = quality_components(single_face, face), quality_components(blurred, face)
    assert sharp_c["laplacian_var"] > 3 * blur_c["laplacian_var"]


def test_components_in_unit_range(detector, single_face):
    comps = quality_components(single_face, detector.detect(single_face)[0])
    assert {"size", "sharpness", "confidence", "pose"} <= set(comps)
    for name in ("size", "sharpness", "confidence", "pose"):
        assert 0.0 <= comps[name] <= 1.0
    assert comps["size"] == 1.0 and comps["pose"] > 0.7  # a large frontal face
    assert abs(combine(comps) - quality_score(single_face, detector.detect(single_face)[0])) < 1e-9


def test_small_face_scores_lower_size(detector, single_face):
    small = cv2.resize(single_face, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    big_face = detector.detect(single_face)[0]
    small_face = replace(
        big_face, bbox=tuple(v * 0.15 for v in big_face.bbox), keypoints=big_face.keypoints * 0.15
    )
    assert quality_components(small, small_face)["size"] < 0.5
    assert quality_score(small, small_face) < quality_score(single_face, big_face)


def test_presence_overrides_detector_score(detector, single_face):
    face = detector.detect(single_face)[0]
    assert quality_score(single_face, face, landmarks_presence=0.0) == 0.0
    comps = quality_components(single_face, face, landmarks_presence=0.99)
    assert comps["confidence"] == 0.99


def test_turned_face_scores_lower_pose(detector, single_face):
    face = detector.detect(single_face)[0]
    frontal = quality_components(single_face, face)["pose"]
    for side in (-1, 1):
        k = face.keypoints.copy()
        k[2, 0] += side * 0.5 * face.eye_distance  # nose far to one side: a strongly turned head
        assert quality_components(single_face, replace(face, keypoints=k))["pose"] < min(0.3, frontal)
