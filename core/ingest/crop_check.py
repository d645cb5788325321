"""Does a `folder` import hold face crops? A crop shows one face filling the picture; a whole
photo (a group, a scene, a portrait with background) shows small faces or none. Checked on an
evenly spread sample of the images, so the import reports a warning pointing to `images`."""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from core.faces.io import ImageError, read_image

SAMPLE = 24  # images checked per import (~2 ms each)
MIN_FACE_AREA = 0.25  # a crop's face box covers at least this share of the picture
_DETECTOR: list = []
_LOCK = threading.Lock()


def _detector():
    with _LOCK:
        if not _DETECTOR:
            from core.faces import FaceDetector

            _DETECTOR.append(FaceDetector(model="short"))
        return _DETECTOR[0]


def face_share(image: np.ndarray) -> float:
    """The largest face box found, as a share of the picture (0 when none). The picture is
    padded first: a tight crop cuts the chin and forehead, which hides a face from a detector."""
    h, w = image.shape[:2]
    pad = max(h, w) // 3
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
    faces = _detector().detect(padded)
    return max((f.bbox[2] * f.bbox[3] / (w * h) for f in faces), default=0.0)


def not_crops(files: list[Path]) -> tuple[int, int]:
    """(images that show no face at crop scale, images checked) over a spread sample of files."""
    if not files:
        return 0, 0
    picks = sorted({int(i) for i in np.linspace(0, len(files) - 1, num=min(SAMPLE, len(files)))})
    checked = missed = 0
    for i in picks:
        try:
            image = read_image(files[i])
        except (ImageError, OSError):
            continue  # the import reports unreadable images itself
        checked += 1
        missed += face_share(image) < MIN_FACE_AREA
    return missed, checked


def crop_warning(files: list[Path]) -> str | None:
    """A warning when most sampled images are not face crops, else None."""
    missed, checked = not_crops(files)
    if not checked or missed * 2 <= checked:
        return None
    return (f"{missed} of {checked} checked images show no face filling the picture: they look like "
            "whole photos, not face crops, and `folder` stores each image as one face. To find and "
            "align the faces, import them with `images` (it also reads the emotion from the folder names).")
