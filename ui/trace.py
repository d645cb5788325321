"""Trace page helpers: cached trace reads, the video as a data URL, save / export / label-frames
actions (their outcome as a message), and the figure of every trace with the consensus."""
from __future__ import annotations

import base64
import mimetypes
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.auth import AccessDenied
from core.store.db import read_session, write_session
from core.store.traces import (
    export_traces_csv,
    label_frames_from_consensus,
    list_traces,
    save_trace,
    trace_report,
    video_file,
    video_media,
)
from core.traces import TraceError
from ui.auth import identity
from ui.charts import MARGIN, cached_figure
from ui.text import plot_text

MAX_VIDEO_BYTES = 60 * 1024 * 1024  # sent to the browser inside the page: longer videos as clips
COLOURS = ("#3969ac", "#e68310", "#11a579", "#7f3c8d", "#80ba5a", "#f2b701", "#e73f74", "#008695")


@st.cache_data(ttl=10, show_spinner=False)
def videos() -> list[dict[str, Any]]:
    with read_session() as s:
        return video_media(s)


@st.cache_data(ttl=600, max_entries=4, show_spinner=False)
def video_url(media_id: int) -> str:
    """The video as a data URL (the file is read only inside the data dir); TraceError when it is
    missing, outside the data dir or too large to send inside the page."""
    with read_session() as s:
        path = video_file(s, media_id)
    size = path.stat().st_size
    if size > MAX_VIDEO_BYTES:
        raise TraceError(f"{path.name} is {size / 2**20:.0f} MiB; the recorder takes videos up to "
                         f"{MAX_VIDEO_BYTES / 2**20:.0f} MiB (cut it into clips)")
    mime = mimetypes.guess_type(path.name)[0] or "video/mp4"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@st.cache_data(ttl=10, show_spinner=False)
def traces(media_id: int) -> list[dict[str, Any]]:
    with read_session() as s:
        return list_traces(s, media_id)


@st.cache_data(ttl=10, show_spinner=False)
def report(media_id: int, rate_hz: float = 10.0) -> dict[str, Any]:
    with read_session() as s:
        return trace_report(s, media_id, rate_hz)


def save(media_id: int, annotator: str, value: dict[str, Any]) -> tuple[bool, str]:
    """Store the recorder's value as a new trace; (ok, message)."""
    try:
        with write_session() as s, s.begin():
            trace_id = save_trace(s, media_id, annotator, value.get("samples") or {}, mode=value.get("mode", "2d"),
                                  rate_hz=float(value.get("rate_hz") or 10.0), identity=identity())
    except (TraceError, AccessDenied) as exc:
        return False, f"Not saved: {exc}"
    st.cache_data.clear()
    return True, f"Saved trace #{trace_id}: {len(value['samples']['t'])} samples"


def export(media_id: int) -> str | None:
    with read_session() as s:
        try:
            return export_traces_csv(s, media_id)
        except TraceError:
            return None


def label_frames(media_id: int) -> tuple[bool, str]:
    try:
        with write_session() as s, s.begin():
            n = label_frames_from_consensus(s, media_id, identity=identity())
    except (TraceError, AccessDenied) as exc:
        return False, f"Not labelled: {exc}"
    st.cache_data.clear()
    return True, f"Labelled {n} frame samples from the consensus trace: source derived, raw source 'trace'"


@cached_figure
def traces_figure(rep: dict[str, Any], dim: str) -> go.Figure:
    """Every annotator's newest trace of one dimension and the consensus (thick, black)."""
    fig = go.Figure()
    for i, tr in enumerate(rep["traces"]):
        fig.add_trace(go.Scatter(x=rep["times"], y=tr[dim], mode="lines", name=plot_text(tr["name"]),
                                 line={"color": COLOURS[i % len(COLOURS)], "width": 1.5}))
    fig.add_trace(go.Scatter(x=rep["times"], y=rep["consensus"][dim], mode="lines", name="consensus",
                             line={"color": "#222", "width": 3}))
    fig.update_layout(height=260, margin=MARGIN, xaxis={"title": "media time (s)"},
                      yaxis={"title": dim, "range": [-1.05, 1.05]}, legend={"orientation": "h", "y": -0.3})
    return fig
