"""The one crop geometry: every face is stored and served as one canonical aligned crop, and
every model input is resized from that crop by resize_crop (training, evaluation, predict, live).
"""

from __future__ import annotations

import cv2
import numpy as np

# Side in pixels of the aligned BGR crop a sample stores (importers, live capture) and that every
# inference path aligns to. Models with another input size resize from it with resize_crop, so a
# 64 px gray model sees the same pixels in training and in serving. Stores written before this
# constant existed hold 112 px crops already (importers and capture used 112). Crops imported
# ready-made (csv, folder, fer2013, openface) are kept byte for byte and resized the same way.
CANONICAL_SIZE = 112


def _as_uint8(crop: np.ndarray) -> np.ndarray:
    crop = np.asarray(crop)
    if crop.size == 0:
        raise ValueError("empty face crop")
    if crop.dtype != np.uint8:  # floats are taken to be on 0..255 already
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    if crop.ndim == 3 and crop.shape[-1] == 4:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGRA2BGR)
    if crop.ndim == 3 and crop.shape[-1] == 1:
        crop = crop[..., 0]
    if crop.ndim not in (2, 3) or (crop.ndim == 3 and crop.shape[-1] != 3):
        raise ValueError(f"cannot read a face crop of shape {crop.shape}")
    return crop


def _resize(crop: np.ndarray, size: int) -> np.ndarray:
    h, w = crop.shape[:2]
    if (h, w) == (size, size):
        return np.ascontiguousarray(crop)
    interp = cv2.INTER_AREA if h > size or w > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def resize_crop(crop: np.ndarray, size: int, *, gray: bool, native_size: int | None = None
                ) -> np.ndarray:
    """A face crop (BGR, BGRA or gray; uint8, any size) -> (size, size) gray or (size, size, 3)
    BGR uint8: colour converted first (cv2 BGR2GRAY / GRAY2BGR), then resized with
    cv2.INTER_AREA when shrinking and cv2.INTER_LINEAR when enlarging. native_size (a model
    trained on smaller images, e.g. FER2013's 48 px faces) reduces the crop to that side first,
    as those images were, then resizes it to size. The only resize between a stored or freshly
    aligned crop and a model's input."""
    crop = _as_uint8(crop)
    if gray and crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    elif not gray and crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    if native_size is not None and min(crop.shape[:2]) > native_size:
        crop = _resize(crop, native_size)
    return _resize(crop, size)
