"""Crop preprocessing: shapes, colour order, normalisation."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from core.model.config import ModelConfig
from core.model.preprocess import preprocess

GRAY = ModelConfig()
RGB = ModelConfig.for_backbone("resnet18")


def test_gray_and_bgr_crops_of_any_size():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    x = preprocess([bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), bgr[:30, :40]], GRAY)
    assert x.shape == (3, 1, 64, 64) and x.dtype == torch.float32
    assert torch.equal(x[0], x[1])  # BGR is turned gray the same way
    assert x.min() >= -1 and x.max() <= 1


def test_normalisation_is_minus_one_to_one():
    x = preprocess(np.stack([np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8)]),
                   GRAY)
    assert x.shape == (2, 1, 64, 64)
    assert torch.all(x[0] == -1) and torch.all(x[1] == 1)


def test_rgb_config_swaps_bgr_and_normalises_per_channel():
    blue = np.zeros((50, 50, 3), np.uint8)
    blue[..., 0] = 255  # BGR: pure blue
    x = preprocess(blue, RGB)
    assert x.shape == (1, 3, 112, 112)
    expected = (np.array([0, 0, 1.0]) - np.array(RGB.mean)) / np.array(RGB.std)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), expected, rtol=1e-5)
    assert preprocess(np.zeros((20, 20), np.uint8), RGB).shape == (1, 3, 112, 112)


def test_empty_batch():
    assert preprocess([], GRAY).shape == (0, 1, 64, 64)
