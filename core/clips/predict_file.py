"""`predict VIDEO --clip`: a clip model over one video file -> the JSON-ready result (per-window
predictions, the model's description, the rendered video when asked)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.clips.predict import ClipModelRunner, predict_clip_video
from core.video import VIDEO_EXTS


def resolve_clip_model(model: str | Path) -> Path:
    """A clip model file from a path or a catalog id of a clip run or export ("run:7", "file:...")."""
    text = str(model)
    if text.startswith(("run:", "file:")):
        from core.catalog import clip_entries

        for entry in clip_entries():
            if entry.id == text:
                return Path(entry.path)
        raise LookupError(f"{text} is not a clip model in the catalog (a finished clip run or clip export)")
    if text == "default" or Path(text).suffix.lower() not in (".pt", ".onnx"):
        raise ValueError(f"--clip needs a clip model (.pt checkpoint, .onnx export or a clip run's run:N), got {text!r}")
    return Path(text)


def predict_clip_file(path: str | Path, model: str | Path, *, window: float | None = None,
                      stride: float | None = None, render: str | Path | None = None, embedder: Any = None,
                      threads: int = 1, with_landmarks: bool = True, pipeline: Any = None,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """{"file", "model", "duration", "rule", "windows": [...], "render"?}; FileNotFoundError /
    ValueError (a VideoError included) naming the file when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file")
    if path.suffix.lower() not in VIDEO_EXTS:
        raise ValueError(f"{path}: --clip reads a video ({', '.join(sorted(VIDEO_EXTS))}), not {path.suffix or 'this file'}")
    model = resolve_clip_model(model)
    runner = ClipModelRunner(model, threads=threads)
    own = pipeline is None
    if own:
        from core.faces import FacePipeline

        pipeline = FacePipeline(with_landmarks=with_landmarks, model="short")
    try:
        windows, info = predict_clip_video(path, runner, embedder=embedder, pipeline=pipeline, window=window,
                                           stride=stride, progress=progress)
    finally:
        if own:
            pipeline.close()
    c = runner.config
    result: dict[str, Any] = {
        "file": str(path),
        "model": {"path": str(model), "backend": runner.backend, "kind": c.kind, "tasks": list(c.tasks),
                  "mode": c.label_schema.emotion_mode, "frames": c.frames, "audio": c.has_audio},
        **info, "windows": [w.to_dict() for w in windows]}
    if render:
        from core.clips.render import render_video

        result["render"] = render_video(path, windows, render)
    return result
