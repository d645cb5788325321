"""The valence/arousal circumplex you click: plotly figure, selection handling, fine sliders.

One click sets V/A. Streamlit 1.67's plotly element turns `clickmode` to "event" (no point
selection on click) whenever `dragmode` is "select" or "lasso", so the figure has no drag mode
(Streamlit then uses "pan" with "event+select") and fixed axes (a drag pans nothing).
"""
from __future__ import annotations

import functools
from functools import partial
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.rules import VA_CIRCUMPLEX

GRID = np.round(np.linspace(-1, 1, 41), 3)  # clickable points every 0.05


@functools.lru_cache(maxsize=4)
def _plane(height: int) -> dict[str, Any]:
    """The fixed part (grid, prototypes, unit circle, layout), built and validated once."""
    gx, gy = np.meshgrid(GRID, GRID)
    fig = go.Figure()
    fig.add_scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="click to set",
                    marker={"size": 9, "opacity": 0.02, "color": "#888"}, hoverinfo="x+y",
                    showlegend=False)
    fig.add_scatter(x=[v for v, _ in VA_CIRCUMPLEX.values()], y=[a for _, a in VA_CIRCUMPLEX.values()],
                    mode="markers+text", text=[k.capitalize() for k in VA_CIRCUMPLEX],
                    textposition="top center", marker={"size": 8, "color": "#999", "symbol": "diamond"},
                    hoverinfo="text", showlegend=False, unselected={"marker": {"opacity": 1}})
    theta = np.linspace(0, 2 * np.pi, 200)
    fig.add_scatter(x=np.cos(theta), y=np.sin(theta), mode="lines", line={"color": "#ccc", "width": 1},
                    hoverinfo="skip", showlegend=False)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      dragmode=False, clickmode="event+select", hovermode="closest",
                      xaxis={"range": [-1.1, 1.1], "title": "valence", "zeroline": True, "fixedrange": True,
                             "constrain": "domain"},  # the square plane keeps its [-1.1, 1.1] range
                      yaxis={"range": [-1.1, 1.1], "title": "arousal", "zeroline": True,
                             "scaleanchor": "x", "fixedrange": True})
    return fig.to_dict()


def circumplex_figure(valence: float | None, arousal: float | None, *, height: int = 380) -> go.Figure:
    """A V/A plane: an invisible grid of clickable points, emotion prototypes, the current point."""
    plane = _plane(height)
    data = list(plane["data"])  # new lists only: the figure is read, never changed, downstream
    if valence is not None and arousal is not None:
        data.append({"type": "scatter", "x": [valence], "y": [arousal], "mode": "markers", "name": "label",
                     "marker": {"size": 16, "color": "#e4572e", "line": {"width": 2, "color": "white"}},
                     "showlegend": False, "hoverinfo": "x+y", "unselected": {"marker": {"opacity": 1}}})
    return go.Figure({"data": data, "layout": plane["layout"]}, _validate=False)  # parts valid already


def va_from_selection(event: Any) -> tuple[float, float] | None:
    """The clicked point of a plotly selection event on the grid (first point), if any."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
        getattr(getattr(event, "selection", None), "points", None) or []
    for p in points:
        x, y = p.get("x"), p.get("y")
        if x is not None and y is not None:
            return float(np.clip(x, -1, 1)), float(np.clip(y, -1, 1))
    return None


def _on_select(plot_key: str, vkey: str, akey: str) -> None:
    """Selection callback (runs before the rerun): a click moves both sliders to the point."""
    clicked = va_from_selection(st.session_state.get(plot_key))
    if clicked is not None:
        st.session_state[vkey], st.session_state[akey] = clicked


def circumplex_ui(valence: float | None, arousal: float | None, *, key: str) -> tuple[float, float]:
    """Click the plane or move the sliders; returns (valence, arousal) in [-1, 1]."""
    vkey, akey, plot_key = f"{key}-v", f"{key}-a", f"{key}-plot"
    st.session_state.setdefault(vkey, 0.0 if valence is None else float(valence))
    st.session_state.setdefault(akey, 0.0 if arousal is None else float(arousal))
    st.plotly_chart(circumplex_figure(st.session_state[vkey], st.session_state[akey]),
                    key=plot_key, on_select=partial(_on_select, plot_key, vkey, akey),
                    selection_mode="points", config={"displayModeBar": False})
    c1, c2 = st.columns(2)
    v = c1.slider("Valence", -1.0, 1.0, step=0.01, key=vkey)
    a = c2.slider("Arousal", -1.0, 1.0, step=0.01, key=akey)
    return float(v), float(a)
