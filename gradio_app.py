"""Gradio demo of the AffectLab predictor: webcam streaming, photo upload with the Live page's overlays,
and video clips through a clip model (gradio_clip.py).

`python gradio_app.py` serves http://127.0.0.1:7861 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT change
it). Webcam frames travel over plain HTTP (gr.Image streaming, ~5 frames/s), so unlike the
Streamlit Live page (WebRTC) it needs no STUN/TURN server. Every frame goes through the same
core.inference.Predictor and core.live.LiveProcessor (smoothing + overlays) as the Live page.
The API (gradio_client or /gradio_api) exposes `/analyze_image`, `/analyze_frame` and `/analyze_clip`.
"""
from __future__ import annotations

import os

# Before gradio is imported: no telemetry, no Hugging Face Hub calls (the app runs offline).
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"

import logging  # noqa: E402
from collections.abc import Collection  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from core.catalog import DEFAULT_LABEL, list_models, load_predictor  # noqa: E402
from core.inference.prediction import FacePrediction  # noqa: E402
from core.live import LiveProcessor  # noqa: E402
from core.model.prior import PRIOR_NOTE as CORE_PRIOR_NOTE
from core.overlay import OverlayOptions, draw_overlays, emotion_text, stress_text, traits_text, va_text  # noqa: E402

log = logging.getLogger(__name__)
DEFAULT_PORT = 7861
MAX_UPLOAD_MB = 25  # per file, photo or video (Gradio refuses larger uploads before storing them)
CACHE_SWEEP = (600, 3600)  # every 10 min delete this demo's temp files older than an hour
OVERLAYS = [("Face box", "box"), ("Emotion label", "label"), ("Probability bars", "bars"),
            ("V/A circumplex", "circumplex"), ("Stress gauge", "stress")]
DEFAULT_OVERLAYS = [v for _, v in OVERLAYS if getattr(OverlayOptions(), v)]
EXAMPLES = ["0-f15-hao-ph.jpg", "0-f1-su-ph.jpg", "15-f13-anc-ph.jpg", "multi_face.jpg"]
PRIOR_NOTE = f"*(prior)* = {CORE_PRIOR_NOTE}."

def model_choices() -> list[str]:
    """Labels of the model catalog (the default, trained runs, exported files)."""
    return [e.label for e in list_models()]


def get_predictor(model: str | None) -> Any:
    """One shared, thread-safe Predictor per catalog label (None = the pretrained default)."""
    return load_predictor(model or DEFAULT_LABEL, threads=1, shared=True)


def overlay_options(names: list[str] | None) -> OverlayOptions:
    chosen = set(DEFAULT_OVERLAYS if names is None else names)
    return OverlayOptions(**{v: v in chosen for _, v in OVERLAYS})


def label_value(preds: list[FacePrediction]) -> dict[str, float] | None:
    """Class probabilities of the first face, for gr.Label."""
    return dict(preds[0].probs) if preds else None


def summary_markdown(preds: list[FacePrediction], extra: str = "") -> str:
    """One line per face, the same wording as the Live page; prior outputs are marked."""
    if not preds:
        return "No face found." + (f"\n\n{extra}" if extra else "")
    lines = [f"**Face {i + 1}**: {emotion_text(p)} · {va_text(p)} valence {p.valence:+.2f} / "
             f"arousal {p.arousal:+.2f} · {stress_text(p)}" + (f" · {traits_text(p)}" if traits_text(p) else "")
             for i, p in enumerate(preds)]
    flags = preds[0].flags
    if "prior" in flags.values():
        lines.append(PRIOR_NOTE)
    if flags.get("emotion") == "untrained":
        lines.append("**Warning:** this model's emotion head is untrained (random weights).")
    return "\n\n".join(lines + ([extra] if extra else []))


def result_json(preds: list[FacePrediction], predictor: Any, **extra: Any) -> dict[str, Any]:
    return {"model": getattr(predictor, "model_version", ""), **extra, "faces": [p.to_dict() for p in preds]}


def va_figure(preds: list[FacePrediction]) -> Any:
    """A small circumplex: class anchors in gray, one point per face (hollow = prior)."""
    import plotly.graph_objects as go

    from core.rules import VA_CIRCUMPLEX

    t = np.linspace(0, 2 * np.pi, 121)
    fig = go.Figure(go.Scatter(x=np.cos(t), y=np.sin(t), mode="lines", hoverinfo="skip",
                               line={"color": "lightgray"}, showlegend=False))
    fig.add_trace(go.Scatter(
        x=[v for v, _ in VA_CIRCUMPLEX.values()], y=[a for _, a in VA_CIRCUMPLEX.values()],
        mode="text", text=list(VA_CIRCUMPLEX), textfont={"color": "gray", "size": 10},
        hoverinfo="skip", showlegend=False))
    for i, p in enumerate(preds):
        prior = p.flags.get("va") == "prior"
        fig.add_trace(go.Scatter(
            x=[p.valence], y=[p.arousal], mode="markers", name=f"face {i + 1}" + (" (prior)" if prior else ""),
            marker={"size": 14, "color": "magenta", "symbol": "circle-open" if prior else "circle",
                    "line": {"width": 3}}))
    fig.update_layout(width=320, height=350, margin={"l": 40, "r": 10, "t": 30, "b": 70},
                      title=va_text(preds[0]) if preds else "V/A", legend={"orientation": "h", "y": -0.3},
                      xaxis={"range": [-1.15, 1.15], "title": "valence", "zeroline": True},
                      yaxis={"range": [-1.15, 1.15], "title": "arousal", "scaleanchor": "x"})
    return fig


def _resolve(model: str | None, choices: Collection[str]) -> str:
    """The catalog label to load; only labels this demo offered are accepted."""
    if not model or model == DEFAULT_LABEL:
        return DEFAULT_LABEL
    if model not in choices:
        import gradio as gr

        raise gr.Error(f"unknown model {model!r}; choose one of {list(choices)}")
    return model


def analyze_image(path: str | None, model: str | None, overlays: list[str] | None,
                  *, choices: Collection[str]) -> tuple:
    """A photo file -> (annotated RGB image, probabilities, V/A figure, summary, JSON)."""
    if not path:
        return None, None, va_figure([]), "Upload a photo with a face.", None
    import gradio as gr

    from core.faces.io import ImageError
    from core.uploads import check_upload_size, decode_upload

    try:
        check_upload_size(Path(path).stat().st_size, name=Path(path).name)  # before reading it
        frame = decode_upload(Path(path).read_bytes(), name=Path(path).name)  # BGR, our own copy
    except ImageError as exc:
        raise gr.Error(str(exc)) from None
    predictor = get_predictor(_resolve(model, choices))
    preds = predictor.predict_frame(frame)
    annotated = draw_overlays(frame, preds, overlay_options(overlays))
    return (cv2.cvtColor(annotated, cv2.COLOR_BGR2RGB), label_value(preds), va_figure(preds),
            summary_markdown(preds), result_json(preds, predictor))


def analyze_frame(frame_rgb: np.ndarray | None, model: str | None, overlays: list[str] | None,
                  smoothing: float, state: LiveProcessor | None, *, choices: Collection[str]) -> tuple:
    """One webcam frame -> (annotated RGB frame, probabilities, summary, JSON, this viewer's processor).

    Gradio hands a read-only RGB array: cvtColor makes the writeable BGR copy we draw on.
    """
    if frame_rgb is None:
        return None, None, "Waiting for the webcam...", None, state
    predictor = get_predictor(_resolve(model, choices))
    processor = state if isinstance(state, LiveProcessor) else LiveProcessor(predictor)
    processor.configure(predictor=predictor, smoothing=float(smoothing), overlays=overlay_options(overlays))
    frame = cv2.cvtColor(np.asarray(frame_rgb, np.uint8), cv2.COLOR_RGB2BGR)
    annotated = processor.process(frame)
    snap = processor.results.latest()
    preds = list(snap.predictions) if snap else []
    stats = (f"frame {snap.frame_index} · {snap.fps:.1f} frames/s · {snap.latency_ms:.0f} ms per frame"
             if snap else "")
    if snap and snap.error:
        stats += f" · error: {snap.error}"
    return (cv2.cvtColor(annotated, cv2.COLOR_BGR2RGB), label_value(preds),
            summary_markdown(preds, stats),
            result_json(preds, predictor, frame=snap.frame_index if snap else 0), processor)


def limited_photo(choices: Collection[str]) -> Any:
    """analyze_image under this visitor's analysis budget (core.limits; the Gradio session is the
    visitor): over it, a gr.Warning with the wait and the outputs left as they were."""
    import gradio as gr

    from core.limits import ANALYSES, LimitExceeded

    def analyse_photo(path: str | None, model: str | None, overlays: list[str] | None,
                      request: Any = None) -> tuple:
        try:
            with ANALYSES.analysis(None, getattr(request, "session_hash", None)):
                return analyze_image(path, model, overlays, choices=choices)
        except LimitExceeded as exc:
            gr.Warning(str(exc))
            return (gr.skip(),) * 5

    analyse_photo.__annotations__["request"] = gr.Request  # gradio passes the request by this hint
    return analyse_photo


def example_paths() -> list[str]:
    """Demo faces already in the asset cache (never downloads while building the UI)."""
    from core.assets import assets_dir

    return [str(assets_dir() / n) for n in EXAMPLES if (assets_dir() / n).exists()]


def example_photo(name: str | None) -> str | None:
    """The server path of an example photo chosen by its name (only the names reach the page:
    gr.Examples would publish server paths in the public /config)."""
    return next((p for p in example_paths() if Path(p).name == name), None)


def build_demo(choices: Collection[str] | None = None, clip_choices: list[tuple[str, str]] | None = None) -> Any:
    """The gr.Blocks app: a Webcam tab (streaming), a Photo tab (upload) and a Video clip tab
    (clip_choices: (label, id) of the clip models; None = the catalog's)."""
    import functools

    import gradio as gr
    from PIL import Image

    from core.uploads import UPLOAD_MAX_PIXELS
    from gradio_clip import clip_model_choices, clip_tab

    # Pillow refuses anything over 2 x MAX_IMAGE_PIXELS: no decompression bomb is decoded in this
    # process, by our code or by Gradio's own image handling (webcam frames, API calls)
    Image.MAX_IMAGE_PIXELS = UPLOAD_MAX_PIXELS // 2
    choices = list(choices or model_choices())
    with gr.Blocks(title="AffectLab", delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown("# AffectLab\nEmotion probabilities, valence/arousal in [-1, 1] and stress in "
                    "[0, 1] for every face. " + PRIOR_NOTE)
        with gr.Row():
            model = gr.Dropdown(list(choices), value=next(iter(choices)), label="Model", scale=2)
            overlays = gr.CheckboxGroup(OVERLAYS, value=DEFAULT_OVERLAYS, label="Overlays", scale=3)
        with gr.Tab("Webcam"):
            with gr.Row():
                with gr.Column():
                    cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Webcam")
                    smoothing = gr.Slider(0.0, 0.9, value=0.6, step=0.1, label="Smoothing")
                with gr.Column():
                    cam_out = gr.Image(label="Annotated", format="jpeg", interactive=False, elem_id="cam-out")
                    cam_label = gr.Label(num_top_classes=8, label="Emotion (first face)")
                    cam_text = gr.Markdown(elem_id="cam-text")
                    cam_json = gr.JSON(label="Predictions", open=False, elem_id="cam-json")
            state = gr.State(None)
            cam.stream(functools.partial(analyze_frame, choices=choices),
                       [cam, model, overlays, smoothing, state],
                       [cam_out, cam_label, cam_text, cam_json, state],
                       stream_every=0.2, concurrency_limit=8, show_progress="hidden",
                       api_name="analyze_frame")
        with gr.Tab("Photo"):
            with gr.Row():
                with gr.Column():
                    # image_mode=None: Gradio hands over the uploaded file undecoded; decode_image
                    # checks its size and declared pixels first
                    photo = gr.Image(sources=["upload", "clipboard"], type="filepath", label="Photo",
                                     image_mode=None)
                    go_btn = gr.Button("Analyze", variant="primary")
                    if example_paths():
                        example = gr.Radio([Path(p).name for p in example_paths()], label="Example photos",
                                           value=None)
                        example.change(example_photo, example, photo, api_name=False)
                with gr.Column():
                    photo_out = gr.Image(label="Annotated", interactive=False)
                    photo_label = gr.Label(num_top_classes=8, label="Emotion (first face)")
                    photo_va = gr.Plot(label="Valence / arousal")
                    photo_text = gr.Markdown()
                    photo_json = gr.JSON(label="Predictions", open=False)
            gr.on([go_btn.click, photo.change], limited_photo(choices),
                  [photo, model, overlays], [photo_out, photo_label, photo_va, photo_text, photo_json],
                  api_name="analyze_image")
        with gr.Tab("Video clip"):
            clip_tab(clip_model_choices() if clip_choices is None else clip_choices, max_mb=MAX_UPLOAD_MB)
    return demo


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up probes
    from core.auth import serve_visitors

    serve_visitors()  # AFFECTLAB_AUTH=on: visitors are anonymous viewers, under core.limits' budgets
    get_predictor(DEFAULT_LABEL).predict_frame(np.zeros((240, 320, 3), np.uint8))  # load models before serving
    demo = build_demo()
    demo.queue().launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        server_port=int(os.environ.get("GRADIO_SERVER_PORT", DEFAULT_PORT)),
                        ssr_mode=False, share=False, max_file_size=f"{MAX_UPLOAD_MB}mb")


if __name__ == "__main__":
    main()
