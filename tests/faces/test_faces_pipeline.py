"""FacePipeline end to end on stills, video frames, noise, with and without the mesh."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.faces import CANONICAL_SIZE, FaceCrop, FacePipeline, read_image, resize_crop


@pytest.fixture(scope="session")
def pipe(detector):
    return FacePipeline(detector=detector)


@pytest.fixture(scope="session")
def mesh_pipe(detector, landmark_model):
    return FacePipeline(detector=detector, landmark_model=landmark_model, with_landmarks=True)


def test_single_face_crop(pipe, single_face):
    crops = pipe.process(single_face)
    assert len(crops) == 1 and isinstance(crops[0], FaceCrop)
    assert crops[0].crop.shape == (112, 112, 3) and crops[0].crop.dtype == np.uint8
    assert 0.5 < crops[0].face.quality <= 1.0
    assert crops[0].face.landmarks is None


def test_crops_are_canonical_and_models_resize_from_them(detector, single_face):
    (fc,) = FacePipeline(detector=detector).process(single_face)
    assert fc.crop.shape == (CANONICAL_SIZE, CANONICAL_SIZE, 3)
    small = resize_crop(fc.crop, 64, gray=True)
    assert small.shape == (64, 64) and small.dtype == np.uint8
    want = cv2.resize(cv2.cvtColor(fc.crop, cv2.COLOR_BGR2GRAY), (64, 64), interpolation=cv2.INTER_AREA)
    assert np.array_equal(small, want)
    with pytest.raises(TypeError):
        FacePipeline(detector=detector, size=64)  # one geometry: no per-pipeline crop size


def test_with_landmarks(mesh_pipe, single_face):
    (fc,) = mesh_pipe.process(single_face)
    assert fc.face.landmarks.shape == (468, 3)
    assert fc.face.presence > 0.9 and 0.5 < fc.face.quality <= 1.0
    mouth_width = np.linalg.norm(fc.face.keypoints[4] - fc.face.keypoints[3])
    assert 0.5 * fc.face.eye_distance < mouth_width < 1.6 * fc.face.eye_distance


def test_mesh_presence_rejects_detector_false_positives(mesh_pipe, detector):
    false_hits = 0
    for seed in range(5):
        noise = np.random.default_rng(seed).integers(0, 256, (480, 640, 3), dtype=np.uint8)
        false_hits += len(detector.detect(noise))
        assert mesh_pipe.process(noise) == []
    assert false_hits > 0  # the detector alone does fire on some of these


def test_max_faces_and_order(full_detector, asset):
    pipe = FacePipeline(detector=full_detector, max_faces=2)
    crops = pipe.process(read_image(asset("multi_face.jpg")))
    assert len(crops) == 2 and crops[0].face.score >= crops[1].face.score


def test_video_frames(pipe, asset):
    cap = cv2.VideoCapture(str(asset("single_face.mp4")))
    counts = []
    while len(counts) < 24:
        ok, frame = cap.read()
        if not ok:
            break
        counts.append(len(pipe.process(frame)))
    cap.release()
    assert len(counts) >= 20 and all(c == 1 for c in counts)


def test_close_leaves_shared_models_open(detector, single_face):
    with FacePipeline(detector=detector) as pipe:
        assert len(pipe.process(single_face)) == 1
    assert len(detector.detect(single_face)) == 1  # still usable by everyone else


def test_owned_models_are_built_and_closed(single_face):
    with FacePipeline(with_landmarks=True) as pipe:
        assert pipe.detector.backend == "mediapipe"
        (fc,) = pipe.process(single_face)
        assert fc.crop.shape == (CANONICAL_SIZE, CANONICAL_SIZE, 3) and fc.face.presence > 0.9
