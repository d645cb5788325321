"""Per-frame predictions over a video: emotion probabilities, valence, arousal, stress as a table."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from core.video import DEFAULT_FPS, VideoReader, iter_video_frames


def done_fraction(n: int, seconds: float | None, *, frames: int | None, duration: float | None) -> float:
    """How much of the video n sampled frames cover, in [0, 1]: n / frames when a frame count
    was asked for, else the time reached over the declared length (0 when that is unknown)."""
    if frames:
        return min(1.0, n / frames)
    if duration and seconds is not None:
        return min(1.0, max(0.0, seconds / duration))
    return 0.0


def frame_rows(index: int, seconds: float | None, faces: list, classes: list[str]) -> list[dict]:
    """The timeline rows of one analysed frame: one per face, largest first (face 0), or one row
    with no face so the gap shows."""
    faces = sorted(faces, key=lambda f: -(f.bbox[2] * f.bbox[3]) if f.bbox else 0)
    if not faces:
        return [{"frame": index, "time_s": seconds, "face": None}]
    return [{"frame": index, "time_s": seconds, "face": i, "emotion": f.emotion,
             "confidence": f.confidence, **{f"p_{c}": f.probs.get(c, 0.0) for c in classes},
             "valence": f.valence, "arousal": f.arousal, "stress": f.stress,
             "va_source": f.flags.get("va"), "stress_source": f.flags.get("stress"),
             "bbox": None if f.bbox is None else [round(v, 1) for v in f.bbox]} for i, f in enumerate(faces)]


def video_timeline(path: str | Path, predictor, *, fps: float | None = DEFAULT_FPS, frames: int | None = None,
                   progress: Callable[[float, float | None], None] | None = None) -> pd.DataFrame:
    """One row per face per sampled frame (the largest face is face 0); empty frames get a row
    with no face so gaps show on the timeline. progress(fraction done, seconds) after each frame
    (see done_fraction)."""
    classes = list(predictor.config.classes)
    duration = None
    if progress is not None:
        with VideoReader(path) as reader:
            duration = reader.info.declared_seconds
    rows = []
    for n, (index, seconds, frame) in enumerate(iter_video_frames(path, fps=fps, frames=frames)):
        rows += frame_rows(index, seconds, predictor.predict_frame(frame), classes)
        if progress is not None:
            progress(done_fraction(n + 1, seconds, frames=frames, duration=duration), seconds)
    return pd.DataFrame(rows)
