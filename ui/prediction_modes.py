"""A model's richer outputs per face (Upload, Live): every category above its threshold
(multi-label), the distribution as bars, dominance and named targets as a small bar chart flagged
"trained" or "untrained"/"prior" as the model card says."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.inference.prediction import FacePrediction
from ui.charts_modes import distribution_figure, traits_figure
from ui.text import md


def has_rich_outputs(p: FacePrediction) -> bool:
    return p.mode != "single" or p.dominance is not None or bool(p.targets)


def face_columns(p: FacePrediction) -> dict[str, Any]:
    """Extra face-table columns: the categories above threshold, dominance, each named target."""
    out: dict[str, Any] = {}
    if p.mode == "multi":
        out["categories"] = ", ".join(p.emotions or []) or "none"
    if p.dominance is not None:
        out["dominance"] = round(p.dominance, 3)
    out.update({name: round(v, 3) for name, v in p.targets.items()})
    return out


def trait_values(p: FacePrediction, ranges: dict[str, Any]) -> tuple[dict[str, float], dict[str, tuple], dict]:
    """(values, ranges, flags) of dominance and the named targets for traits_figure."""
    values = ({"dominance": p.dominance} if p.dominance is not None else {}) | dict(p.targets)
    rng = {k: tuple(ranges.get(k, (-1.0, 1.0) if k == "dominance" else (0.0, 1.0))) for k in values}
    flags = {k: p.flags.get(k, "trained") for k in values}
    return values, rng, flags


def rich_predictions_ui(preds: list[FacePrediction], *, ranges: dict[str, Any], key: str) -> None:
    """One row per face with a richer output: its categories or distribution, and its traits."""
    for i, p in enumerate(preds):
        if not has_rich_outputs(p):
            continue
        left, right = st.columns(2)
        if p.mode == "multi":
            left.markdown(f"**Face {i + 1}**: " + md(", ".join(p.emotions or []) or "no category above its threshold"))
        elif p.mode == "distribution":
            left.markdown(f"**Face {i + 1}** emotion distribution")
            left.plotly_chart(distribution_figure(p.probs, list(p.probs)), key=f"{key}-dist-{i}",
                              config={"displayModeBar": False})
        values, rng, flags = trait_values(p, ranges)
        if values:
            (right if p.mode != "single" else left).plotly_chart(
                traits_figure(values, rng, flags), key=f"{key}-traits-{i}", config={"displayModeBar": False})
            if any(f != "trained" for f in flags.values()):
                right.caption("grey bars: no trained head for it (" + md(", ".join(
                    f"{k} {f}" for k, f in flags.items() if f != "trained")) + ")")
