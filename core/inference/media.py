"""Frames from videos, and real aligned face crops from the cached asset photos (parity checks)."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

# cached real faces (core.assets): 12 faces in the photos, one per sampled video frame
PARITY_PHOTOS = ("single_face.jpg", "multi_face.jpg", "0-f15-hao-ph.jpg", "0-f1-su-ph.jpg",
                 "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg", "grace_hopper.jpg", "astronaut.png")
PARITY_VIDEO = "single_face.mp4"
PARITY_VIDEO_FRAMES = 6


class VideoError(ValueError):
    """A video that cannot be opened or decoded; the message names it."""


def iter_video_frames(path: str | Path, *, fps: float | None = 2.0, frames: int | None = None
                      ) -> Iterator[tuple[int, float | None, np.ndarray]]:
    """(frame index, seconds, BGR frame) for `frames` evenly spaced frames, or `fps` per second.

    Raises VideoError when the file cannot be opened or no sampled frame decodes.
    """
    from core.ingest.media_import import sample_indices

    cap = cv2.VideoCapture(str(path))
    try:
        n_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
        rate = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) if cap.isOpened() else 0.0
        if n_frames <= 0:
            raise VideoError(f"{path}: cannot decode the video (broken or unsupported stream)")
        wanted = set(sample_indices(n_frames, rate, every_fps=fps, frames=frames))
        decoded = 0
        for index in range(max(wanted) + 1):
            if not cap.grab():
                break
            if index in wanted:
                ok, frame = cap.retrieve()
                if ok:
                    decoded += 1
                    yield index, (index / rate if rate else None), frame
        if decoded == 0:
            raise VideoError(f"{path}: no frame could be decoded (broken stream)")
    finally:
        cap.release()


_CROPS: dict[tuple[int, bool] | None, list[np.ndarray]] = {}  # None: the canonical crops
_CROPS_LOCK = threading.Lock()


def real_face_crops(size: int, *, gray: bool, mirror: bool = True) -> list[np.ndarray]:
    """Real faces of the cached asset photos and video (BlazeFace short range, no mesh) as a
    size x size model sees them: canonical crops resized by core.faces.crop.resize_crop (gray
    or BGR), plus their mirror images; read-only arrays, computed once per process."""
    from core.faces.crop import resize_crop

    key = (size, gray)
    with _CROPS_LOCK:
        if None not in _CROPS:
            _CROPS[None] = _collect()
        if key not in _CROPS:
            _CROPS[key] = [_frozen(resize_crop(c, size, gray=gray)) for c in _CROPS[None]]
    crops = _CROPS[key]
    return crops + [np.ascontiguousarray(c[:, ::-1]) for c in crops] if mirror else list(crops)


def _frozen(crop: np.ndarray) -> np.ndarray:
    crop.setflags(write=False)
    return crop


def _collect() -> list[np.ndarray]:
    """Canonical crops of every face in the parity photos and video frames."""
    from core.assets import asset_path
    from core.faces import FacePipeline, read_image

    frames = [read_image(asset_path(name)) for name in PARITY_PHOTOS]
    frames += [f for _, _, f in iter_video_frames(asset_path(PARITY_VIDEO), fps=None,
                                                  frames=PARITY_VIDEO_FRAMES)]
    with FacePipeline(with_landmarks=False) as pipe:
        crops = [fc.crop for frame in frames for fc in pipe.process(frame)]
    if len(crops) < 4:
        raise RuntimeError(f"only {len(crops)} faces found in the asset photos; the face "
                           "detector or the asset cache is broken")
    for c in crops:
        c.setflags(write=False)
    return crops
