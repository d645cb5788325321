"""Plotly figures shared by pages."""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go


def class_balance_figure(emotion_by_split: dict[str, dict[str, int]], classes: list[str]) -> go.Figure:
    """Grouped bars: samples per emotion, one bar colour per split."""
    fig = go.Figure()
    order = classes + ["none"]
    for split, row in sorted(emotion_by_split.items()):
        fig.add_bar(name=split, x=order, y=[row.get(c, 0) for c in order])
    fig.update_layout(barmode="group", height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend_title_text="split", xaxis_title="emotion (none = unlabelled)",
                      yaxis_title="samples")
    return fig


def source_counts(by_source: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in sorted(by_source.items())}


def va_scatter_figure(points: list[tuple]) -> go.Figure:
    """Current V/A labels, one colour per emotion; customdata carries the sample id."""
    fig = go.Figure()
    by_emotion: dict[str, list[tuple]] = {}
    for sid, v, a, e in points:
        by_emotion.setdefault(e or "none", []).append((sid, v, a))
    for emotion, rows in sorted(by_emotion.items()):
        fig.add_scattergl(x=[r[1] for r in rows], y=[r[2] for r in rows], mode="markers", name=emotion,
                          customdata=[[r[0]] for r in rows], marker={"size": 6, "opacity": 0.7},
                          hovertemplate="#%{customdata[0]} v %{x:.2f} a %{y:.2f}")
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}, dragmode="lasso",
                      xaxis={"range": [-1.05, 1.05], "title": "valence"},
                      yaxis={"range": [-1.05, 1.05], "title": "arousal", "scaleanchor": "x"})
    return fig
