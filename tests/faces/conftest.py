"""Shared fixtures for the face-pipeline tests: cached real media and session-scoped models."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for _path in (str(REPO), str(HERE)):  # the repo (core) and face_test_utils, in any import mode
    if _path not in sys.path:
        sys.path.insert(0, _path)

from core.assets import ASSETS, assets_dir  # noqa: E402
from tests.conftest import block_network  # noqa: E402

# Resolved once at collection, so tests that change AFFECTLAB_* env vars cannot move them.
_ASSETS_DIR = assets_dir()


def cached_asset(name: str) -> Path:
    """Path of a cached asset; skips (never downloads) when the cache lacks it."""
    assert name in ASSETS, name
    path = _ASSETS_DIR / name
    if not path.exists():
        pytest.skip(f"asset {name} not cached in {_ASSETS_DIR} (run core.assets.fetch_all once)")
    return path


@pytest.fixture(scope="session")
def asset():
    return cached_asset


@pytest.fixture(scope="session")
def detector():
    from core.faces import FaceDetector

    cached_asset("face_detection_short_range.tflite")
    det = FaceDetector(backend="mediapipe")
    yield det
    det.close()


@pytest.fixture(scope="session")
def full_detector():
    from core.faces import FaceDetector

    cached_asset("face_detection_full_range_sparse.tflite")
    det = FaceDetector(backend="mediapipe", model="full")
    yield det
    det.close()


@pytest.fixture(scope="session")
def landmark_model():
    from core.faces import LandmarkModel

    cached_asset("face_landmark.tflite")
    return LandmarkModel()


@pytest.fixture(scope="session")
def single_face(asset):
    from core.faces import read_image

    return read_image(asset("single_face.jpg"))


@pytest.fixture(scope="session")
def single_face_640(single_face):
    import cv2

    return cv2.resize(single_face, (640, 480), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def noise_frame():
    return np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """These tests run offline: connections beyond loopback fail, pip cannot download."""
    block_network(monkeypatch, "a face test")
