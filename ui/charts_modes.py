"""Plotly figures for the richer label modes: a distribution as bars, named targets as bars (with
prior/trained flags), predicted against true for one target. Returned as cached dicts (ui.charts)."""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from ui.charts import MARGIN, cached_figure, emotion_colour
from ui.text import plot_text


@cached_figure
def distribution_figure(dist: dict[str, float], classes: list[str], title: str = "") -> go.Figure:
    """Horizontal bars, one per class of the list (in list order), probability in [0, 1]."""
    fig = go.Figure()
    fig.add_bar(x=[float(dist.get(c, 0.0)) for c in classes], y=[plot_text(c) for c in classes],
                orientation="h", marker_color=[emotion_colour(c) for c in classes],
                text=[f"{dist.get(c, 0.0):.0%}" if dist.get(c) else "" for c in classes],
                textposition="outside", hovertemplate="%{y}: %{x:.0%}<extra></extra>")
    fig.update_layout(height=max(140, 22 * len(classes) + 50), margin={**MARGIN, "t": 30 if title else 10},
                      title=plot_text(title) if title else None, showlegend=False,
                      xaxis={"range": [0, 1.15], "tickformat": ".0%", "fixedrange": True},
                      yaxis={"autorange": "reversed", "fixedrange": True})
    return fig


@cached_figure
def traits_figure(values: dict[str, float], ranges: dict[str, tuple[float, float]],
                  flags: dict[str, str] | None = None) -> go.Figure:
    """Bars of named targets over their ranges; a bar flagged "prior" or "untrained" is grey and says so."""
    flags = flags or {}
    names = list(values)
    off = {n for n in names if flags.get(n) not in (None, "trained")}  # prior / untrained heads
    shown = [plot_text(f"{n} ({flags[n]})" if n in off else n) for n in names]
    fig = go.Figure()
    fig.add_bar(x=[values[n] for n in names], y=shown, orientation="h",
                marker_color=["#bbbbbb" if n in off else "#4b4b8f" for n in names],
                text=[f"{values[n]:.2f}" for n in names], textposition="outside",
                hovertemplate="%{y}: %{x:.3f}<extra></extra>")
    low = min((r[0] for r in ranges.values()), default=0.0)
    high = max((r[1] for r in ranges.values()), default=1.0)
    fig.update_layout(height=max(140, 26 * len(names) + 50), margin=MARGIN, showlegend=False,
                      xaxis={"range": [low, high + (high - low) * 0.15], "fixedrange": True},
                      yaxis={"autorange": "reversed", "fixedrange": True})
    return fig


@cached_figure
def target_pairs_figure(true: Any, pred: Any, name: str, low: float, high: float) -> go.Figure:
    """Predicted against true for one named target over its range, with the identity line."""
    pad = (high - low) * 0.03
    axis = {"range": [low - pad, high + pad], "constrain": "domain"}
    fig = go.Figure()
    fig.add_scattergl(x=list(map(float, true)), y=list(map(float, pred)), mode="markers",
                      marker={"size": 6, "opacity": 0.5}, name=plot_text(name))
    fig.add_scatter(x=[low, high], y=[low, high], mode="lines", line={"dash": "dot", "color": "#999"},
                    showlegend=False)
    fig.update_layout(title=plot_text(name), height=300, margin={**MARGIN, "t": 40}, showlegend=False,
                      xaxis={**axis, "title": f"true {plot_text(name)}"},
                      yaxis={**axis, "title": f"predicted {plot_text(name)}", "scaleanchor": "x"})
    return fig


@cached_figure
def category_counts_figure(by_category: dict[str, int], classes: list[str], what: str = "samples") -> go.Figure:
    """Samples per category (multi-label: each category a sample carries; distribution: its
    dominant class), in class-list order, each in its emotion colour."""
    fig = go.Figure()
    fig.add_bar(x=[plot_text(c) for c in classes], y=[int(by_category.get(c, 0)) for c in classes],
                marker_color=[emotion_colour(c) for c in classes], hovertemplate="%{x}: %{y}<extra></extra>")
    fig.update_layout(height=320, margin={**MARGIN, "t": 30}, showlegend=False, yaxis_title=what,
                      xaxis={"categoryorder": "array", "categoryarray": [plot_text(c) for c in classes]})
    return fig
