"""Real aligned face crops from the cached asset photos and video (parity checks); video frames
come from core.video, the one reader."""
from __future__ import annotations

import threading

import numpy as np

from core.video import VideoError, iter_video_frames

# cached real faces (core.assets): 12 faces in the photos, one per sampled video frame
PARITY_PHOTOS = ("single_face.jpg", "multi_face.jpg", "0-f15-hao-ph.jpg", "0-f1-su-ph.jpg",
                 "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg", "grace_hopper.jpg", "astronaut.png")
PARITY_VIDEO = "single_face.mp4"
PARITY_VIDEO_FRAMES = 6


__all__ = ["VideoError", "iter_video_frames", "real_face_crops"]


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
