"""Predict every face of an image, a video or a folder of them, with a model named by file or run.

The `predict` verb (cli/model.py) prints predict_paths()'s result; files that fail are listed
under "errors" and skipped. Each face carries what its model has: probabilities (a multi-label
model's per-category sigmoids with "emotions" listing those at or above their thresholds, a
distribution model's probabilities), dominance and named "targets", with "prior"/"trained" flags.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2

from core.catalog import load_predictor as load_from_catalog
from core.faces.io import IMAGE_EXTS, ImageError, read_image
from core.inference.prediction import head_flags
from core.video import VIDEO_EXTS, VideoError, iter_video_frames


def list_media(path: Path) -> list[Path]:
    """A file as given, or the images and videos under a folder (recursive, sorted)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS)


def load_predictor(model: str, *, run: int | None = None, backend: str = "auto",
                   threads: int = 1, detector: str = "both", with_landmarks: bool = True):
    """--model REF (default | run:N | a catalog label | a .pt / .onnx file), or --run N, through
    the model catalog (core.catalog.load_predictor); TorchScript only when exported here."""
    return load_from_catalog(f"run:{run}" if run is not None else model, backend=backend,
                             threads=threads, detector=detector, with_landmarks=with_landmarks,
                             shared=True)


def predict_file(predictor, file: Path, *, fps: float | None, frames: int | None) -> dict[str, Any]:
    """{"file", "kind", "faces"}; raises ImageError / VideoError for unreadable files."""
    if file.suffix.lower() in VIDEO_EXTS:
        faces, sampled = [], 0
        for index, seconds, frame in iter_video_frames(file, fps=fps, frames=frames):
            sampled += 1
            faces += [{"frame_index": index, "timestamp": seconds, **p.to_dict()}
                      for p in predictor.predict_frame(frame)]
        return {"file": str(file), "kind": "video", "frames_sampled": sampled, "faces": faces}
    frame = read_image(file)  # ImageError names the file and the reason
    return {"file": str(file), "kind": "image",
            "faces": [p.to_dict() for p in predictor.predict_frame(frame)]}


def predict_paths(path: str | Path, predictor, *, fps: float | None = 2.0,
                  frames: int | None = None) -> dict[str, Any]:
    """Predict every face of an image, a video or a folder of them; unreadable files are
    reported in "errors" and skipped."""
    files = list_media(Path(path))
    done, errors = [], []
    for file in files:
        try:
            done.append(predict_file(predictor, file, fps=fps, frames=frames))
        except (ImageError, VideoError, OSError, cv2.error) as exc:
            errors.append({"file": str(file), "error": str(exc)})
    return {"path": str(path), "model": predictor.model_version, "backend": predictor.backend,
            "backbone": predictor.config.backbone, "flags": head_flags(predictor.config),
            "emotion_mode": predictor.config.emotion_mode, **_thresholds(predictor.config),
            "files": done, "errors": errors,
            "summary": {"files": len(files), "read": len(done), "failed": len(errors),
                        "faces": sum(len(f["faces"]) for f in done)}}


def _thresholds(config) -> dict[str, Any]:
    """{"thresholds": {class: t}} for a multi-label model (each face lists the categories at or
    above them under "emotions"), else nothing."""
    return {"thresholds": dict(zip(config.classes, config.class_thresholds()))} \
        if config.emotion_mode == "multi" else {}
