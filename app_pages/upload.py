"""Upload: images (every face annotated) and videos (per-frame timeline, downloadable as CSV)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.analyse_job import discard_upload, load_timeline, runs_as_job, save_upload, video_seconds
from core.export import safe_cell
from core.faces.io import ImageError
from core.inference.media import VideoError
from core.jobs.status import RunStatus
from core.limits import LimitExceeded
from core.model.prior import prior_note
from core.overlay import OverlayOptions, draw_overlays
from core.timeline import video_timeline
from core.uploads import decode_upload
from core.viz import bgr_to_rgb
from ui.analysis_job import JOB_KEY, analysis_job_ui, outcome_ui, submit_analysis_ui
from ui.charts import emotion_colour
from ui.clip_upload import analyse_clips_ui, clip_mode_ui, clip_result_ui
from ui.limits import analysis_slot, upload_analysis
from ui.models import model_ui
from ui.prediction_modes import face_columns, rich_predictions_ui
from ui.text import md

MAX_IMAGE_MB, MAX_VIDEO_MB = 25, 200
st.session_state["page"] = "upload"
st.title("Upload")
entry, model = model_ui(key="upload_model")
image_tab, video_tab = st.tabs(["Images", "Video"])


def face_table(preds) -> list[dict]:
    return [{"face": i + 1, "emotion": p.emotion, "confidence": round(p.confidence, 3),
             "valence": round(p.valence, 3), "arousal": round(p.arousal, 3), "stress": round(p.stress, 3),
             "V/A": p.flags.get("va"), "stress source": p.flags.get("stress"),
             **face_columns(p), **{c: round(v, 3) for c, v in p.probs.items()}} for i, p in enumerate(preds)]


with image_tab:
    files = st.file_uploader("Images", type=["jpg", "jpeg", "png", "bmp", "webp"], accept_multiple_files=True,
                             key="upload_images")
    options = OverlayOptions(bars=st.toggle("Probability bars", True, key="up_bars"))
    for f in files or []:
        st.subheader(md(f.name))
        if f.size > MAX_IMAGE_MB * 2**20:
            st.error(f"{md(f.name)}: {f.size / 2**20:.1f} MiB is over the {MAX_IMAGE_MB} MiB limit")
            continue
        try:
            frame = decode_upload(f.getvalue(), name=f.name)  # size and pixel budget before decoding
        except ImageError as exc:
            st.error(md(exc))  # the message starts with the uploaded file's name
            continue
        try:
            with upload_analysis(f.file_id):  # the visitor's budget (core.limits), once per file
                preds = model.predict_frame(frame)
        except LimitExceeded as exc:
            st.warning(md(exc))
            break
        if not preds:
            st.warning("No face found.")
            st.image(bgr_to_rgb(frame), width=480)
            continue
        st.image(bgr_to_rgb(draw_overlays(frame.copy(), preds, options)), width="stretch")
        if note := prior_note(preds[0].flags):
            st.caption(note)
        st.dataframe(face_table(preds), hide_index=True, width="stretch")
        rich_predictions_ui(preds, ranges=model.config.target_ranges, key=f"up-{f.file_id}")


def timeline_figure(df: pd.DataFrame, classes: list[str]) -> go.Figure:
    face0 = df[df["face"] == 0]
    fig = go.Figure()
    for c in classes:
        fig.add_scatter(x=face0["time_s"], y=face0[f"p_{c}"], mode="lines", name=c, stackgroup="p",
                        line={"color": emotion_colour(c)}, fillcolor=emotion_colour(c))
    for c, dash in (("valence", "solid"), ("arousal", "dash"), ("stress", "dot")):
        fig.add_scatter(x=face0["time_s"], y=face0[c], mode="lines", name=c, yaxis="y2",
                        line={"width": 3, "dash": dash, "color": "black"})
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title="seconds",
                      yaxis={"title": "emotion probability", "range": [0, 1]},
                      yaxis2={"title": "V / A / stress", "overlaying": "y", "side": "right", "range": [-1, 1]})
    return fig


def analyse_inline(path: Path, name: str, fps: float) -> pd.DataFrame | None:
    """A short video analysed in this page run, with its progress bar; None if refused or unreadable."""
    bar = st.progress(0.0, text="analysing...")
    try:
        with analysis_slot():
            df = video_timeline(path, model, fps=fps,
                                progress=lambda done, t: bar.progress(done, text=f"{t or 0:.1f} s"))
    except LimitExceeded as exc:
        st.warning(md(exc))
        return None
    except VideoError as exc:
        st.error(md(str(exc).replace(str(path), name)))
        return None
    bar.progress(1.0, text=f"{df['frame'].nunique()} frames")
    return df


with video_tab:
    video = st.file_uploader("Video", type=["mp4", "mov", "avi", "mkv", "webm"], key="upload_video")
    fps = st.slider("Frames analysed per second", 1.0, 15.0, 5.0, 1.0, key="up_fps")
    clip_mode = clip_mode_ui()  # (clip model, window) or None
    if video is not None and st.button("Analyse", key="analyse", type="primary"):
        if video.size > MAX_VIDEO_MB * 2**20:
            st.error(f"{md(video.name)}: {video.size / 2**20:.1f} MiB is over the {MAX_VIDEO_MB} MiB limit")
            st.stop()
        path = None
        try:  # saved under the data dir's uploads area, never at a user-chosen path
            path = save_upload(video.getvalue(), name=video.name)
            seconds = video_seconds(path)
        except VideoError as exc:
            if path is not None:
                discard_upload(path)
            st.error(md(str(exc).replace(str(path), video.name)))
            st.stop()
        st.session_state.pop("timeline", None)
        if clip_mode is not None:  # per-clip predictions and the annotated mp4, inline
            try:
                analyse_clips_ui(path, video.name, *clip_mode)
            finally:
                discard_upload(path)
        elif runs_as_job(seconds):  # long: the worker analyses it, with progress and Cancel
            submit_analysis_ui(path, name=video.name, model=entry.id, fps=fps)
        else:
            try:
                df = analyse_inline(path, video.name, fps)
            finally:
                discard_upload(path)
            if df is None:
                st.stop()
            st.session_state["timeline"] = (video.name, df)
    if clip_mode is not None:
        clip_result_ui()
    if (job_id := st.session_state.get(JOB_KEY)) is not None and (state := analysis_job_ui(job_id)):
        del st.session_state[JOB_KEY]
        if state["status"] == RunStatus.SUCCEEDED:
            st.session_state["timeline"] = (state["name"], load_timeline(job_id))
        else:
            outcome_ui(state)
    if "timeline" in st.session_state:
        name, df = st.session_state["timeline"]
        classes = [c[2:] for c in df.columns if c.startswith("p_")]
        if not classes:
            st.warning(f"{md(name)}: no face found in any analysed frame.")
        else:
            st.plotly_chart(timeline_figure(df, classes), key="timeline_fig")
            if note := prior_note({h: "prior" for h in ("va", "stress") if df[f"{h}_source"].eq("prior").any()}):
                st.caption(note)
            st.dataframe(df.drop(columns=["bbox"]), hide_index=True, height=240)
        csv = df.map(safe_cell).to_csv(index=False, lineterminator="\r\n").encode()  # RFC 4180
        st.download_button("Download CSV", csv, file_name=f"{Path(name).stem}_timeline.csv", mime="text/csv",
                           key="download_csv")
