"""FaceDetector on real photos, blank and noise frames, odd inputs, the Haar fallback and speed."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from face_test_utils import inside_box, iou

from core.faces import FaceDetector, read_image
from core.faces import detect as detect_mod


def test_single_face_found_with_plausible_box(detector, single_face):
    faces = detector.detect(single_face)
    assert len(faces) == 1
    face = faces[0]
    h, w = single_face.shape[:2]
    x, y, bw, bh = face.bbox
    assert face.score > 0.8
    assert 0.25 * w < bw < 0.55 * w and 0.25 * h < bh < 0.55 * h  # the face fills ~1/3 of the photo
    cx, cy = face.center
    assert abs(cx - w / 2) < 0.15 * w and abs(cy - h / 2) < 0.15 * h


def test_keypoints_inside_box_and_in_face_order(detector, single_face):
    face = detector.detect(single_face)[0]
    k = face.keypoints
    assert k.shape == (5, 2) and k.dtype == np.float32
    assert inside_box(k, face.bbox).all()
    left_eye, right_eye, nose, mouth_l, mouth_r = k
    assert left_eye[0] < right_eye[0] and mouth_l[0] < mouth_r[0]  # image sides, upright face
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])
    assert 0.25 < face.eye_distance / face.bbox[2] < 0.6


def test_multi_face_full_range(full_detector, asset):
    faces = full_detector.detect(read_image(asset("multi_face.jpg")))
    assert len(faces) >= 4  # five people; the "full" model also finds small faces
    scores = [f.score for f in faces]
    assert scores == sorted(scores, reverse=True)
    for i, a in enumerate(faces):
        for b in faces[i + 1 :]:
            assert iou(a.bbox, b.bbox) < 0.2
        assert inside_box(a.keypoints, a.bbox, pad=0.05).all()


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_frames_have_no_face(detector, full_detector, value):
    frame = np.full((480, 640, 3), value, dtype=np.uint8)
    assert detector.detect(frame) == []
    assert full_detector.detect(frame) == []


def test_noise_scores_stay_far_below_real_faces(detector, single_face):
    # BlazeFace gives pixel noise scores up to ~0.67 (FacePipeline(with_landmarks=True) rejects
    # those by mesh presence); real faces score > 0.85.
    real = detector.detect(single_face)[0].score
    for seed in range(5):
        noise = np.random.default_rng(seed).integers(0, 256, (480, 640, 3), dtype=np.uint8)
        assert all(f.score < 0.75 < real for f in detector.detect(noise))


def test_short_range_finds_tight_dataset_crops(detector, asset):
    lfw = np.load(asset("lfw_subset.npy"))  # 100 faces then 100 non-faces, 25x25 floats in [0, 1]
    found = [len(detector.detect((img * 255).astype(np.uint8))) > 0 for img in lfw]
    assert sum(found[:100]) >= 90 and sum(found[100:]) <= 5


def test_concurrent_calls_agree(detector, single_face):
    from concurrent.futures import ThreadPoolExecutor

    ref = detector.detect(single_face)[0].bbox
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: detector.detect(single_face), range(16)))
    assert all(len(r) == 1 and r[0].bbox == ref for r in results)


def test_gray_and_bgra_inputs(detector, single_face):
    ref = detector.detect(single_face)[0]
    gray = cv2.cvtColor(single_face, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(single_face, cv2.COLOR_BGR2BGRA)
    for frame in (gray, gray[:, :, None], bgra):
        faces = detector.detect(frame)
        assert len(faces) == 1 and iou(faces[0].bbox, ref.bbox) > 0.8


def test_bad_inputs(detector):
    with pytest.raises(ValueError):
        detector.detect(np.zeros((48, 48, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        detector.detect(np.zeros((48, 48, 2), dtype=np.uint8))
    assert detector.detect(np.zeros((1, 1, 3), dtype=np.uint8)) == []


def test_haar_backend(detector, single_face):
    haar = FaceDetector(backend="haar")
    assert haar.backend == "haar"
    faces = haar.detect(single_face)
    assert len(faces) == 1
    face = faces[0]
    assert 0.0 < face.score <= 1.0 and face.keypoints.shape == (5, 2)
    assert inside_box(face.keypoints, face.bbox).all()
    assert iou(face.bbox, detector.detect(single_face)[0].bbox) > 0.4
    assert haar.detect(np.zeros((240, 320), dtype=np.uint8)) == []


def test_auto_falls_back_to_haar_when_mediapipe_fails(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no mediapipe here")

    monkeypatch.setattr(detect_mod.MediapipeBackend, "__init__", broken)
    assert FaceDetector(backend="auto").backend == "haar"
    with pytest.raises(RuntimeError):
        FaceDetector(backend="mediapipe")
    with pytest.raises(ValueError):
        FaceDetector(backend="yunet")


def test_detection_speed_640x480(detector, single_face_640):
    for _ in range(5):
        detector.detect(single_face_640)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        detector.detect(single_face_640)
        times.append(time.perf_counter() - start)
    median_ms = 1000 * float(np.median(times))
    print(f"short-range detection: {median_ms:.2f} ms per 640x480 frame (median of 50)")
    assert median_ms < 20  # ~1.3 ms on an idle 2-core machine; generous for loaded CI
