"""Generated face clips for the segment importers: the real face asset, re-timed and shaded per seed."""
from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

from core.assets import asset_path
from core.video import VideoReader


@functools.cache
def _face_frames() -> tuple[np.ndarray, ...]:
    with VideoReader(asset_path("single_face.mp4")) as reader:
        return tuple(cv2.resize(f.image, (320, 180)) for f in reader.frames())


def face_clip(path: Path, *, seconds: float, seed: int = 0, fps: float = 10.0) -> Path:
    """An mp4 of `seconds` at `fps` showing the asset's face, shaded by `seed` so that no two
    clips (nor two seconds of one clip) share a frame."""
    frames = _face_frames()
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (320, 180))
    for i in range(int(round(seconds * fps))):
        frame = frames[i % len(frames)].astype(np.int16) + (seed * 7 + i) % 40 - 20
        writer.write(np.clip(frame, 0, 255).astype(np.uint8))
    writer.release()
    return path
