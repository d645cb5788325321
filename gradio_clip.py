"""Gradio demo, Video clip tab: a clip model over an uploaded video -> per-window predictions, a timeline
plot and the annotated mp4 with its audio, through the same core call as `affectlab predict --clip`.

One pipeline: core.clips.predict_file.predict_clip_file (detect, track, sample, embed, clip model,
render) serves the CLI, the Upload page's clip mode and this tab. Limits: the demo's upload cap, the
visitor's analysis budget (core.limits, one analysis per clip run) and, since the demo analyses in
the request, no video longer than AFFECTLAB_LONG_VIDEO_S (core.analyse_job.long_video_s): a longer
one gets an error pointing to the command line (or the app's Upload page).
"""
from __future__ import annotations

import dataclasses
import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.inference.prediction import FacePrediction
from core.model.prior import prior_note
from core.overlay import emotion_text, stress_text, traits_text, va_text

MAX_WINDOW_S = 10.0  # the window and stride sliders' range (the Upload page offers the same)
NO_CLIP_MODEL = ("No clip model yet: train one (the Train page's clip option on a dataset with clips, or "
                 "`affectlab train` with a clip config) or export one into the models dir; this tab never "
                 "shows predictions without a trained clip model.")
CLI_HINT = "affectlab predict VIDEO --clip --model <clip model> --window 2 --render out.mp4"
OUTPUTS = 6  # annotated video, download, emotion label, timeline, summary, JSON


def clip_model_choices() -> list[tuple[str, str]]:
    """(label, catalog id) of every clip model: finished clip runs, then clip ONNX exports."""
    from core.catalog import clip_entries

    return [(e.label, e.id) for e in clip_entries()]


def window_prediction(window: Mapping[str, Any]) -> FacePrediction | None:
    """A window's prediction (predict_clip_file's JSON) as a FacePrediction, for core.overlay's wording."""
    pred = window.get("prediction")
    if pred is None:
        return None
    names = {f.name for f in dataclasses.fields(FacePrediction)}
    return FacePrediction(**{k: v for k, v in pred.items() if k in names})


def checked_seconds(path: Path, name: str, *, max_mb: float) -> float:
    """The video's length once it passes the demo's limits (size, a video, not too long); gr.Error else."""
    import gradio as gr

    from core.analyse_job import long_video_s
    from core.clips.predict import video_seconds
    from core.video import VIDEO_EXTS, VideoError

    size = path.stat().st_size
    if size > max_mb * 2**20:
        raise gr.Error(f"{name}: {size / 2**20:.1f} MiB is over this demo's {max_mb:g} MiB upload limit")
    if path.suffix.lower() not in VIDEO_EXTS:
        raise gr.Error(f"{name}: not a video file (expected one of {', '.join(sorted(VIDEO_EXTS))})")
    try:
        seconds = video_seconds(path)
    except VideoError as exc:
        raise gr.Error(str(exc).replace(str(path), name)) from None
    if seconds > (limit := long_video_s()):
        raise gr.Error(f"{name}: {seconds:.1f} s is longer than this demo analyses ({limit:g} s, "
                       f"AFFECTLAB_LONG_VIDEO_S); run `{CLI_HINT}` or use the app's Upload page (clip mode)")
    return seconds


def render_path(name: str) -> Path:
    """A fresh file in Gradio's cache folder for the annotated mp4: served from there without a copy
    and removed by the demo's hourly cache sweep (delete_cache)."""
    from gradio.utils import get_upload_folder

    stem = re.sub(r"[^\w.-]", "_", Path(name).stem)[:60] or "video"
    folder = Path(get_upload_folder()) / "affectlab-clips" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    return folder / f"{stem}_annotated.mp4"


def analyze_clip(path: str | None, model: str | None, window: float | None, stride: float | None, *,
                 choices: Mapping[str, str], max_mb: float, visitor: str | None = None,
                 progress: Callable[..., Any] | None = None) -> tuple:
    """A video file -> (annotated mp4, the same file to download, emotion of the first analysed window,
    timeline figure, summary, JSON). `choices`: clip model id -> label, the only models accepted.
    Raises gr.Error for a refused upload or model, LimitExceeded over the visitor's budget."""
    if not path:
        return None, None, None, None, "Upload a video with a face.", None
    import gradio as gr

    from core import limits
    from core.clips.predict_file import predict_clip_file
    from core.video import VideoError

    if not choices:
        raise gr.Error(NO_CLIP_MODEL)
    if model not in choices:
        raise gr.Error(f"unknown clip model {model!r}; choose one of {list(choices.values())}")
    source, name = Path(path), Path(path).name
    checked_seconds(source, name, max_mb=max_mb)
    out = render_path(name)
    report = (lambda done, total: progress((done, total), desc="windows")) if progress else None
    try:
        with limits.ANALYSES.analysis(None, visitor):
            result = predict_clip_file(source, model, window=window or None, stride=stride or None,
                                       render=out, progress=report)
    except (VideoError, ValueError, LookupError, FileNotFoundError) as exc:
        shutil.rmtree(out.parent, ignore_errors=True)
        raise gr.Error(str(exc).replace(str(source), name)) from None
    except BaseException:
        shutil.rmtree(out.parent, ignore_errors=True)
        raise
    public = public_result(result, name=name, label=choices[model])
    first = next((p for p in map(window_prediction, result["windows"]) if p is not None), None)
    return (str(out), str(out), dict(first.probs) if first else None, timeline_figure(public),
            clip_summary(public), public)


def public_result(result: dict[str, Any], *, name: str, label: str) -> dict[str, Any]:
    """predict_clip_file's result without server paths: the upload's name, the model's catalog label (no
    "path" key is left: gradio_client would take such a dict for a file to download)."""
    render = {k: v for k, v in (result.get("render") or {}).items() if k != "path"}
    model = {"label": label, **{k: v for k, v in result["model"].items() if k != "path"}}
    return {**result, "file": name, "model": model, "render": render}


def clip_summary(result: dict[str, Any]) -> str:
    """The model, one line per window in core.overlay's wording (prior heads marked) and the render."""
    m, render = result["model"], result["render"]
    windows = result["windows"]
    head = (f"**{m['label']}**: {m['kind']} clip model ({m['mode']} emotions, {m['frames']} frames per clip"
            f"{', audio' if m['audio'] else ''}) · {len(windows)} window(s) over {result['duration']:.1f} s · "
            f"annotated video: {render.get('frames', 0)} frames, "
            + (f"{render['audio']} audio kept" if render.get("audio") else "no audio track in the source"))
    bullets, flags = [], {}
    for w in windows:
        when = f"**{w['start']:.1f}-{w['end']:.1f} s**"
        p = window_prediction(w)
        if p is None:
            bullets.append(f"- {when}: no prediction ({w.get('why', 'nothing usable in the window')})")
            continue
        flags = flags or p.flags
        traits = traits_text(p)
        bullets.append(f"- {when}: {emotion_text(p)} · {va_text(p)} valence {p.valence:+.2f} / arousal "
                       f"{p.arousal:+.2f} · {stress_text(p)}" + (f" · {traits}" if traits else "")
                       + f" ({w['face_frames']}/{w['frames']} frames with the face)")
    notes = [] if flags else ["No face was tracked in any window: no prediction."]
    if note := prior_note(flags):
        notes.append(f"*(prior)*: {note}")
    if flags.get("emotion") == "untrained":
        notes.append("**Warning:** this clip model has no emotion head (the emotions shown are uniform).")
    return "\n\n".join([head, "\n".join(bullets), *notes])


def timeline_figure(result: dict[str, Any]) -> Any:
    """Per-class emotion probabilities over the windows' centres (left axis), V/A, stress, dominance and
    named targets (right axis; prior series named so, dashed); windows without a prediction are gaps."""
    import plotly.graph_objects as go

    windows = result["windows"]
    preds = [window_prediction(w) for w in windows]
    x = [round((w["start"] + w["end"]) / 2, 3) for w in windows]
    first = next((p for p in preds if p is not None), None)
    fig = go.Figure()
    for c in list(first.probs) if first else []:
        fig.add_scatter(x=x, y=[p.probs[c] if p else None for p in preds], mode="lines+markers", name=c)
    series = {"valence": ("va", "black"), "arousal": ("va", "gray"), "stress": ("stress", "saddlebrown")}
    right: list[float] = [-1.0, 1.0]
    for key, (head, colour) in series.items():
        prior = bool(first) and first.flags.get(head) == "prior"
        ys = [getattr(p, key) if p else None for p in preds]
        fig.add_scatter(x=x, y=ys, mode="lines+markers", yaxis="y2", name=key + (" (prior)" if prior else ""),
                        line={"width": 3, "color": colour, "dash": "dash" if prior else "solid"})
    traits = [] if first is None else ["dominance"] * (first.dominance is not None) + list(first.targets)
    for key in traits:
        ys = [(p.dominance if key == "dominance" else p.targets.get(key)) if p else None for p in preds]
        right += [y for y in ys if y is not None]
        fig.add_scatter(x=x, y=ys, mode="lines+markers", yaxis="y2", name=key, line={"dash": "dot"})
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="seconds (window centre)",
                      title=f"{len(windows)} window(s)", legend={"orientation": "h", "y": -0.25},
                      yaxis={"title": "emotion probability", "range": [0, 1]},
                      yaxis2={"title": "V / A / stress / traits", "overlaying": "y", "side": "right",
                              "range": [min(right) - 0.05, max(right) + 0.05]})
    return fig


def limited_clip(choices: Mapping[str, str], *, max_mb: float) -> Callable[..., tuple]:
    """analyze_clip for Gradio: the visitor is the Gradio session, progress shown per window; over the
    visitor's budget a gr.Warning with the wait, the outputs left as they were."""
    import gradio as gr

    from core.limits import LimitExceeded

    def analyse_clip(path: str | None, model: str | None, window: float, stride: float,
                     request: Any = None, progress: Any = gr.Progress()) -> tuple:
        try:
            return analyze_clip(path, model, window, stride, choices=choices, max_mb=max_mb,
                                visitor=getattr(request, "session_hash", None), progress=progress)
        except LimitExceeded as exc:
            gr.Warning(str(exc))
            return (gr.skip(),) * OUTPUTS

    analyse_clip.__annotations__["request"] = gr.Request  # gradio passes the request by this hint
    return analyse_clip


def clip_tab(choices: list[tuple[str, str]], *, max_mb: float) -> None:
    """The Video clip tab's components and its /analyze_clip event (inside a gr.Blocks context)."""
    import gradio as gr

    from core.analyse_job import long_video_s

    with gr.Row():
        with gr.Column():
            video = gr.Video(sources=["upload"], label="Video (mp4, mov, avi, mkv, webm)", elem_id="clip-in")
            if not choices:
                gr.Markdown(NO_CLIP_MODEL, elem_id="clip-no-model")
            model = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Clip model",
                                interactive=bool(choices))
            window = gr.Slider(0.0, MAX_WINDOW_S, value=0.0, step=0.5,
                               label="Window seconds (0: the whole video as one clip)")
            stride = gr.Slider(0.0, MAX_WINDOW_S, value=0.0, step=0.5,
                               label="Stride seconds (0: the window, no overlap)")
            button = gr.Button("Analyze clip", variant="primary", interactive=bool(choices))
            gr.Markdown(f"Videos up to {long_video_s():g} s and {max_mb:g} MB. Longer ones: `{CLI_HINT}`. "
                        "The model and overlay choices above are for photos and the webcam.")
        with gr.Column():
            annotated = gr.Video(label="Annotated (overlays, source audio)", interactive=False,
                                 elem_id="clip-out")
            download = gr.File(label="Download the annotated mp4", interactive=False)
            label = gr.Label(num_top_classes=8, label="Emotion (first window with a face)")
            plot = gr.Plot(label="Timeline")
            text = gr.Markdown(elem_id="clip-text")
            result = gr.JSON(label="Per-window predictions", open=False)
    button.click(limited_clip({i: n for n, i in choices}, max_mb=max_mb), [video, model, window, stride],
                 [annotated, download, label, plot, text, result], api_name="analyze_clip")
