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
