"""Sidebar filters of the Browse page, returned as a core SampleFilter."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.store.queries import SampleFilter
from ui.data import annotators

SOURCES = ["human", "imported", "derived"]


def _range_ui(label: str, lo: float, hi: float, key: str) -> tuple[float, float] | None:
    value = st.sidebar.slider(label, lo, hi, (lo, hi), 0.05, key=key)
    return None if value == (lo, hi) else (float(value[0]), float(value[1]))


def browse_filters_ui(ds: dict[str, Any], splits: list[str]) -> SampleFilter:
    sb = st.sidebar
    sb.subheader("Filters")
    chosen_splits = sb.multiselect("Split", splits, key="f_split")
    emotions = sb.multiselect("Emotion", [*ds["classes"], "none"], key="f_emotion",
                              help="'none' = no emotion label yet")
    sources = sb.multiselect("Label source", SOURCES, key="f_source")
    people = annotators()
    who = sb.selectbox("Last edited by", [None, *people], key="f_annotator",
                       format_func=lambda p: "anyone" if p is None else p["name"])
    valence = _range_ui("Valence", -1.0, 1.0, "f_valence")
    arousal = _range_ui("Arousal", -1.0, 1.0, "f_arousal")
    quality = _range_ui("Face quality", 0.0, 1.0, "f_quality")
    has_pred = sb.selectbox("Has prediction", [None, True, False], key="f_pred",
                            format_func=lambda v: {None: "any", True: "yes", False: "no"}[v])
    disagree = sb.checkbox("Label and prediction disagree", key="f_disagree")
    return SampleFilter(dataset_id=ds["id"], splits=chosen_splits or None, emotions=emotions or None,
                        sources=sources or None, annotator_id=who["id"] if who else None,
                        valence=valence, arousal=arousal, quality=quality, has_prediction=has_pred,
                        disagreement=disagree, sample_ids=st.session_state.get("va_selection"))
