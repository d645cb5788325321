"""Face crops -> the normalised NCHW float input a model expects, resized from the canonical crop.

The pixels come from core.faces.crop.resize_crop (the one resize between a stored or freshly
aligned crop and any model), then (x / 255 - mean) / std per channel, channels in the order the
checkpoint's ModelConfig records (input_size, channels, native_size, mean, std). Training, evaluation,
predict, upload, Gradio and live all go through preprocess_array.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.faces.crop import resize_crop
from core.model.config import ModelConfig

if TYPE_CHECKING:
    import torch


def _as_list(crops: list[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """One crop (H, W) / (H, W, 3|4), or a batch (N, H, W) / (N, H, W, 3|4), or a list."""
    if isinstance(crops, np.ndarray):
        if crops.ndim == 2 or (crops.ndim == 3 and crops.shape[-1] in (3, 4)):
            return [crops]
        if crops.ndim in (3, 4):
            return list(crops)
        raise ValueError(f"cannot read crops of shape {crops.shape}")
    return list(crops)


def model_pixels(crop: np.ndarray, config: ModelConfig) -> np.ndarray:
    """One crop as the model's uint8 pixels: (S, S) gray or (S, S, 3) BGR, S = input_size."""
    return resize_crop(crop, config.input_size, gray=config.channels == 1,
                       native_size=config.native_size)


def preprocess_array(crops: list[np.ndarray] | np.ndarray, config: ModelConfig) -> np.ndarray:
    """preprocess() as a numpy array (no torch round trip: the ONNX Runtime path takes numpy)."""
    items = _as_list(crops)
    if not items:
        return np.zeros((0, config.channels, config.input_size, config.input_size), np.float32)
    batch = np.stack([model_pixels(c, config) for c in items])
    x = batch.astype(np.float32) / 255.0
    if x.ndim == 3:
        x = x[..., None]
    else:
        x = x[..., ::-1]  # BGR -> RGB
    mean = np.asarray(config.mean, np.float32)
    std = np.asarray(config.std, np.float32)
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def preprocess(crops: list[np.ndarray] | np.ndarray, config: ModelConfig) -> torch.Tensor:
    """(N, C, S, S) float32: pixels / 255, then (x - mean) / std per channel (mini-Xception:
    mean = std = 0.5, i.e. [-1, 1]). Colour crops are BGR (OpenCV order); RGB models get RGB."""
    import torch

    return torch.from_numpy(preprocess_array(crops, config))
