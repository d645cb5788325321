"""Face-crop augmentation with OpenCV/numpy on uint8 images, driven by an explicit numpy RNG."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.faces.crop import resize_crop


@dataclass(frozen=True)
class Augment:
    hflip: bool = True  # mirror left-right with p = 0.5
    rotate: float = 15.0  # max |degrees|
    color: float = 0.2  # max relative brightness and contrast change
    crop: float = 0.1  # max fraction cut from each side

    @property
    def active(self) -> bool:
        return self.hflip or self.rotate > 0 or self.color > 0 or self.crop > 0


def random_crop(img: np.ndarray, rng: np.random.Generator, max_cut: float) -> np.ndarray:
    """Cut up to max_cut of the height/width, split randomly between the two sides."""
    h, w = img.shape[:2]
    cut_h, cut_w = (int(round(rng.uniform(0, max_cut) * n)) for n in (h, w))
    top, left = int(rng.integers(0, cut_h + 1)), int(rng.integers(0, cut_w + 1))
    return img[top:top + h - cut_h, left:left + w - cut_w]


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def brightness_contrast(img: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """p' = (p - mean) * contrast + mean * brightness, clipped to 0..255."""
    x = img.astype(np.float32)
    mean = float(x.mean())
    return np.clip((x - mean) * contrast + mean * brightness, 0, 255).astype(np.uint8)


def apply(img: np.ndarray, aug: Augment, rng: np.random.Generator, size: int, *,
          gray: bool = False, native_size: int | None = None) -> np.ndarray:
    """Crop (on the canonical crop), turn into the model's pixels with the one resize every
    path uses (core.faces.crop.resize_crop with the model's size, gray and native_size), then
    flip, rotate and change brightness/contrast. The draws happen in a fixed order, so a seed
    gives one result; with every augmentation off the pixels are exactly the serving ones."""
    if aug.crop > 0:
        img = random_crop(img, rng, aug.crop)
    img = resize_crop(img, size, gray=gray, native_size=native_size)
    if aug.hflip and rng.uniform() < 0.5:
        img = np.ascontiguousarray(img[:, ::-1])
    if aug.rotate > 0:
        img = rotate(img, float(rng.uniform(-aug.rotate, aug.rotate)))
    if aug.color > 0:
        b, c = rng.uniform(1 - aug.color, 1 + aug.color, size=2)
        img = brightness_contrast(img, float(b), float(c))
    return img
