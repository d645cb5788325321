"""Agreement page helpers: cached task reads, the agreement figures, the open-in-Relabel action."""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.store.db import read_session
from core.store.task_agreement import task_agreement
from core.store.tasks import get_task, list_tasks
from ui.charts import MARGIN, cached_figure
from ui.text import md, plot_text


@st.cache_data(ttl=10, show_spinner=False)
def dataset_tasks(dataset: str) -> list[dict[str, Any]]:
    """The dataset's tasks with their progress (cached briefly; a save clears every cache)."""
    with read_session() as s:
        return list_tasks(s, dataset)


@st.cache_data(ttl=10, show_spinner=False)
def agreement_report(dataset: str, task: str, top: int = 30) -> dict[str, Any]:
    with read_session() as s:
        return task_agreement(s, get_task(s, dataset, task), top=top)


@cached_figure
def alpha_figure(fields: list[dict[str, Any]]) -> go.Figure:
    """Krippendorff's alpha per field (bars; an undefined alpha is left out)."""
    shown = [f for f in fields if f["alpha"] is not None]
    colours = ["#3969ac" if f["level"] == "interval" else "#e68310" for f in shown]
    fig = go.Figure(go.Bar(x=[plot_text(f["field"]) for f in shown], y=[f["alpha"] for f in shown],
                           marker_color=colours, text=[f"{f['alpha']:.2f}" for f in shown],
                           hovertext=[f"{f['level']}, {f['units']} samples" for f in shown]))
    fig.add_hline(y=0.8, line_dash="dot", annotation_text="0.8", line_color="#11a579")
    fig.update_layout(height=320, margin=MARGIN, yaxis={"title": "Krippendorff's alpha", "range": [-0.2, 1.05]})
    return fig


@cached_figure
def versus_consensus_figure(fields: list[dict[str, Any]], annotators: list[str]) -> go.Figure:
    """Per annotator: share of nominal labels equal to the consensus, and the mean absolute
    difference from the consensus mean on interval fields."""
    fig = go.Figure()
    for f in fields:
        values = [f["vs_consensus"].get(a) for a in annotators]
        fig.add_trace(go.Bar(name=plot_text(f["field"]), x=[plot_text(a) for a in annotators], y=values,
                             yaxis="y" if f["level"] == "nominal" else "y2",
                             offsetgroup=f["field"], legendgroup=f["level"]))
    fig.update_layout(height=340, margin=MARGIN, barmode="group",
                      yaxis={"title": "agrees with consensus (nominal)", "range": [0, 1]},
                      yaxis2={"title": "mean |difference| (interval, lower is better)", "overlaying": "y", "side": "right",
                              "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.2})
    return fig


@cached_figure
def pairwise_figure(field: dict[str, Any], annotators: list[str]) -> go.Figure:
    """Pairwise alpha of one field between every two annotators (shared samples on hover)."""
    names = [plot_text(a) for a in annotators]
    fig = go.Figure(go.Heatmap(z=field["pairwise"], x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu",
                               customdata=field["shared"], texttemplate="%{z:.2f}",
                               hovertemplate="%{y} vs %{x}: %{z:.2f} on %{customdata} samples<extra></extra>"))
    fig.update_layout(height=300, margin=MARGIN)
    return fig


def open_in_relabel(sample_ids: list[int]) -> None:
    """Hand these samples to Relabel (its "handed over" queue) and go there."""
    st.session_state.update(relabel_queue=list(sample_ids), relabel_mode="handed over")
    st.switch_page("app_pages/relabel.py")


def tasks_overview_ui(dataset: str) -> None:
    """Overview: each open task's progress, and per annotator what they labelled and still owe."""
    for t in dataset_tasks(dataset):
        st.progress(t["done"], text=md(f"task {t['task']}: {t['complete']} of {t['samples']} samples complete, "
                                       f"{t['labels']} of {t['needed']} labels (k = {t['k']})"
                                       + (" · closed" if t["closed"] else "")))
        st.caption(md(" · ".join(f"{a} {p['labelled']} labelled, {p['owed']} owed"
                                 for a, p in t["annotators"].items()) or "nobody has labelled yet"))
