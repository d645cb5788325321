"""Face crops (BGR or gray uint8, any size) -> the normalised NCHW float tensor a model expects."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from core.model.config import ModelConfig


def _as_list(crops: list[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """One crop (H, W) / (H, W, 3|4), or a batch (N, H, W) / (N, H, W, 3|4), or a list."""
    if isinstance(crops, np.ndarray):
        if crops.ndim == 2 or (crops.ndim == 3 and crops.shape[-1] in (3, 4)):
            return [crops]
        if crops.ndim in (3, 4):
            return list(crops)
        raise ValueError(f"cannot read crops of shape {crops.shape}")
    return list(crops)


def _prepare(crop: np.ndarray, size: int, channels: int) -> np.ndarray:
    """Convert to gray (channels 1) or RGB (channels 3), then resize to size x size; uint8."""
    crop = np.asarray(crop)
    if crop.size == 0:
        raise ValueError("empty face crop")
    if crop.dtype != np.uint8:  # floats are taken to be on 0..255 already
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    if crop.ndim == 3 and crop.shape[-1] == 4:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGRA2BGR)
    if crop.ndim == 3 and crop.shape[-1] == 1:
        crop = crop[..., 0]
    if channels == 1 and crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    elif channels == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB if crop.ndim == 2 else cv2.COLOR_BGR2RGB)
    h, w = crop.shape[:2]
    interp = cv2.INTER_AREA if h > size or w > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def preprocess_array(crops: list[np.ndarray] | np.ndarray, config: ModelConfig) -> np.ndarray:
    """preprocess() as a numpy array (no torch round trip: the ONNX Runtime path takes numpy)."""
    items = _as_list(crops)
    if not items:
        return np.zeros((0, config.channels, config.input_size, config.input_size), np.float32)
    batch = np.stack([_prepare(c, config.input_size, config.channels) for c in items])
    x = batch.astype(np.float32) / 255.0
    if x.ndim == 3:
        x = x[..., None]
    mean = np.asarray(config.mean, np.float32)
    std = np.asarray(config.std, np.float32)
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def preprocess(crops: list[np.ndarray] | np.ndarray, config: ModelConfig) -> torch.Tensor:
    """(N, C, S, S) float32: pixels / 255, then (x - mean) / std per channel (mini-Xception:
    mean = std = 0.5, i.e. [-1, 1]). Colour crops are BGR (OpenCV order)."""
    return torch.from_numpy(preprocess_array(crops, config))
