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


def confusion_figure(cm: Any, classes: list[str]) -> go.Figure:
    """Heatmap (rows true, columns predicted) with a clickable invisible point on every cell."""
    import numpy as np

    cm = np.asarray(cm)
    fig = go.Figure()
    fig.add_heatmap(z=cm, x=classes, y=classes, colorscale="Blues", text=cm, texttemplate="%{text}",
                    hovertemplate="true %{y}<br>predicted %{x}<br>%{z} samples<extra></extra>")
    xs, ys = np.meshgrid(classes, classes)
    fig.add_scatter(x=xs.ravel(), y=ys.ravel(), mode="markers", marker={"size": 28, "opacity": 0.01},
                    hoverinfo="skip", showlegend=False)
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_title="predicted", yaxis_title="true", yaxis={"autorange": "reversed"})
    return fig


def va_pairs_figure(true: Any, pred: Any, name: str) -> go.Figure:
    """Predicted against true for one dimension, with the identity line."""
    fig = go.Figure()
    fig.add_scattergl(x=true, y=pred, mode="markers", marker={"size": 5, "opacity": 0.6}, name=name)
    fig.add_scatter(x=[-1, 1], y=[-1, 1], mode="lines", line={"dash": "dot", "color": "#999"},
                    showlegend=False)
    fig.update_layout(title=name, height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"range": [-1.05, 1.05], "title": "true"},
                      yaxis={"range": [-1.05, 1.05], "title": "predicted"}, showlegend=False)
    return fig
