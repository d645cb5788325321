"""Plotly figures shared by pages, with one emotion palette and one circumplex frame for all of them.

The *_figure functions return the figure as a plain dict, cached per input (building a plotly
Figure validates every property: ~0.1 s a chart, paid on every rerun otherwise).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.taxonomy import concept
from ui.text import plot_text

# one colour per emotion concept (any spelling: "Anger" and FER's "Angry" match), on every page
PALETTE = {"neutral": "#8c8c8c", "happy": "#f2b701", "sad": "#3969ac", "surprise": "#11a579",
           "fear": "#7f3c8d", "disgust": "#80ba5a", "anger": "#e73f74", "contempt": "#e68310"}
OTHER = ["#008695", "#cf1c90", "#f97b72", "#4b4b8f", "#a5aa99"]  # classes of custom taxonomies
NONE_COLOUR = "#d0d0d0"  # unlabelled
QUADRANTS = (("pleasant · activated", 0.55, 0.92), ("unpleasant · activated", -0.55, 0.92),
             ("unpleasant · deactivated", -0.55, -0.92), ("pleasant · deactivated", 0.55, -0.92))
MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}


def cached_figure(build: Callable[..., go.Figure]) -> Callable[..., dict[str, Any]]:
    """`build` with its result as a dict (what st.plotly_chart takes), cached per arguments."""
    def as_dict(*args: Any, **kwargs: Any) -> dict[str, Any]:
        fig = build(*args, **kwargs).to_dict()
        fig.get("layout", {}).pop("template", None)  # plotly's default theme (st.plotly_chart sets its own)
        return fig

    as_dict.__name__ = as_dict.__qualname__ = build.__name__  # the cache is keyed by the name
    as_dict.__doc__, as_dict.__module__ = build.__doc__, build.__module__
    return st.cache_data(ttl=600, max_entries=64, show_spinner=False)(as_dict)


def emotion_colour(name: str | None) -> str:
    """The colour of an emotion everywhere in the app; grey for none/unlabelled."""
    if not name or name == "none":
        return NONE_COLOUR
    key = concept(name)
    return PALETTE.get(key) or OTHER[sum(map(ord, key)) % len(OTHER)]


def plural(n: int, word: str) -> str:
    """'1 sample', '2 samples' (English -s plural)."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def circumplex_frame(fig: go.Figure, *, height: int = 420) -> go.Figure:
    """Valence/arousal axes fixed to [-1, 1], square, with the unit circle, axes through 0 and
    the quadrant names."""
    theta = np.linspace(0, 2 * np.pi, 121)
    fig.add_scatter(x=np.cos(theta).tolist(), y=np.sin(theta).tolist(), mode="lines", hoverinfo="skip",
                    line={"color": "#bbb", "width": 1}, showlegend=False)
    for text, x, y in QUADRANTS:
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, font={"size": 10, "color": "#888"})
    axis = {"range": [-1.05, 1.05], "zeroline": True, "zerolinecolor": "#ccc", "constrain": "domain"}
    fig.update_layout(height=height, margin=MARGIN, xaxis={**axis, "title": "valence"},
                      yaxis={**axis, "title": "arousal", "scaleanchor": "x", "scaleratio": 1})
    return fig


@cached_figure
def class_balance_figure(emotion_by_split: dict[str, dict[str, int]], classes: list[str]) -> go.Figure:
    """Stacked bars: samples per emotion (in its colour), one group of bars per split."""
    fig = go.Figure()
    splits = sorted(emotion_by_split)
    for c in [*classes, "none"]:
        fig.add_bar(name="unlabelled" if c == "none" else plot_text(c), x=splits,
                    y=[emotion_by_split[s].get(c, 0) for s in splits], marker_color=emotion_colour(c))
    fig.update_layout(barmode="stack", height=320, margin={**MARGIN, "t": 30}, legend_title_text="emotion",
                      xaxis_title="split (none = no split)", yaxis_title="samples")
    return fig


@cached_figure
def va_scatter_figure(points: list[tuple]) -> go.Figure:
    """Current V/A labels, one colour per emotion, half-transparent so overlaps show;
    customdata carries the sample id."""
    fig = go.Figure()
    by_emotion: dict[str, list[tuple]] = {}
    for sid, v, a, e in points:
        by_emotion.setdefault(e or "none", []).append((sid, v, a))
    for emotion, rows in sorted(by_emotion.items()):
        fig.add_scattergl(x=[r[1] for r in rows], y=[r[2] for r in rows], mode="markers",
                          name="unlabelled" if emotion == "none" else plot_text(emotion),
                          customdata=[[r[0]] for r in rows],
                          marker={"size": 8, "opacity": 0.55, "color": emotion_colour(emotion),
                                  "line": {"width": 0.5, "color": "white"}},
                          hovertemplate="#%{customdata[0]} v %{x:.2f} a %{y:.2f}<extra>%{fullData.name}</extra>")
    fig.update_layout(dragmode="lasso")
    return circumplex_frame(fig)


def selected_ids(event: Any) -> list[int]:
    """Sample ids (customdata[0]) of the points selected on a chart's selection event."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    return [int(p["customdata"][0]) for p in points if p.get("customdata")]


@cached_figure
def confusion_figure(cm: Any, classes: list[str], columns: list[str] | None = None, *,
                     x_title: str = "predicted", y_title: str = "true") -> go.Figure:
    """Confusion matrix (rows true, columns predicted) drawn as square markers, one per cell, so
    a click selects the cell (plotly heatmaps emit no point selection); customdata = (row class,
    column class, count). `columns` (default: `classes`) and the titles serve co-occurrence too."""
    cm = np.asarray(cm)
    cols = list(classes if columns is None else columns)
    n, m = len(classes), len(cols)
    ys, xs = np.meshgrid(range(n), range(m), indexing="ij")
    counts = cm.ravel()
    top = max(int(counts.max()), 1) if counts.size else 1
    side = max(18, min(56, 380 // max(n, m, 1)))  # px per cell
    rows_shown, cols_shown = [plot_text(c) for c in classes], [plot_text(c) for c in cols]  # customdata stays raw
    fig = go.Figure()
    fig.add_scatter(
        x=[cols_shown[j] for j in xs.ravel()], y=[rows_shown[i] for i in ys.ravel()], mode="markers+text",
        text=[str(int(c)) for c in counts], textfont={"color": ["white" if c > top / 2 else "#333"
                                                              for c in counts]},
        customdata=[[classes[i], cols[j], int(c)] for i, j, c in zip(ys.ravel(), xs.ravel(), counts)],
        marker={"symbol": "square", "size": side, "color": counts, "colorscale": "Blues", "cmin": 0,
                "cmax": top, "line": {"width": 1, "color": "#ddd"}, "showscale": False},
        hovertext=[f"{y_title} {plot_text(classes[i])}<br>{x_title} {plot_text(cols[j])}<br>"
                   f"{plural(int(c), 'sample')}" for i, j, c in zip(ys.ravel(), xs.ravel(), counts)],
        hovertemplate="%{hovertext}<extra></extra>",
        showlegend=False)
    fig.update_layout(height=side * n + 120, width=side * m + 160, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"title": x_title, "categoryorder": "array", "categoryarray": cols_shown,
                             "showgrid": False},
                      yaxis={"title": y_title, "categoryorder": "array", "categoryarray": rows_shown,
                             "autorange": "reversed", "showgrid": False},
                      clickmode="event+select", dragmode=False, plot_bgcolor="white")
    return fig


def cell_from_selection(event: Any) -> tuple[str, str] | None:
    """(true, predicted) of the confusion cell clicked on confusion_figure, or None."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    for p in points:
        data = p.get("customdata")
        if data and len(data) >= 2:
            return str(data[0]), str(data[1])
        if p.get("x") is not None and p.get("y") is not None:
            return str(p["y"]), str(p["x"])
    return None


@cached_figure
def va_pairs_figure(true: Any, pred: Any, name: str) -> go.Figure:
    """Predicted against true for one dimension, with the identity line."""
    fig = go.Figure()
    fig.add_scattergl(x=true, y=pred, mode="markers", marker={"size": 6, "opacity": 0.5}, name=name)
    fig.add_scatter(x=[-1, 1], y=[-1, 1], mode="lines", line={"dash": "dot", "color": "#999"},
                    showlegend=False)
    fig.update_layout(title=name, height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"range": [-1.05, 1.05], "title": f"true {name}", "constrain": "domain"},
                      yaxis={"range": [-1.05, 1.05], "title": f"predicted {name}", "scaleanchor": "x",
                             "constrain": "domain"},
                      showlegend=False)
    return fig
