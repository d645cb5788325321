"""Browse filters: sidebar widgets and the V/A plot selection, returned as a core SampleFilter."""
from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.label_schema import LabelSchema
from core.store.queries import SampleFilter
from ui.charts import selected_ids, va_scatter_figure
from ui.data import annotators
from ui.text import md

SOURCES = ["human", "imported", "derived"]


def _range_ui(label: str, lo: float, hi: float, key: str, *, where: Any = None) -> tuple[float, float] | None:
    step = 0.05 if hi - lo <= 10 else round((hi - lo) / 100, 6)
    value = (where or st.sidebar).slider(label, float(lo), float(hi), (float(lo), float(hi)), step, key=key)
    return None if value == (lo, hi) else (float(value[0]), float(value[1]))


def schema_filters_ui(schema: LabelSchema, dataset_id: int) -> dict[str, Any]:
    """The filters a richer schema adds: categories (multi-label, or the dominant class of a
    distribution), dominance and a range per named target; SampleFilter keyword arguments."""
    sb, out = st.sidebar, {}
    if schema.emotion_mode != "single":
        multi = schema.emotion_mode == "multi"
        out["categories"] = sb.multiselect(
            "Category" if multi else "Dominant emotion", list(schema.classes), key=f"f_category-{dataset_id}",
            help="samples labelled with any of these categories" if multi
            else "samples whose distribution peaks at any of these classes") or None
    if schema.dominance:
        out["dominance"] = _range_ui("Dominance", -1.0, 1.0, f"f_dominance-{dataset_id}")
    if schema.targets:
        box = sb.expander("Named targets", expanded=False)
        ranges = {t.name: _range_ui(md(t.name), t.low, t.high, f"f_target-{dataset_id}-{i}", where=box)
                  for i, t in enumerate(schema.targets)}
        out["targets"] = {k: v for k, v in ranges.items() if v is not None} or None
    return out


def browse_filters_ui(ds: dict[str, Any], splits: list[str], schema: LabelSchema | None = None) -> SampleFilter:
    sb = st.sidebar
    sb.subheader("Filters")
    chosen_splits = sb.multiselect("Split", splits, key="f_split")
    single = schema is None or schema.emotion_mode == "single"
    emotions = sb.multiselect("Emotion", [*ds["classes"], "none"], key="f_emotion",
                              help="'none' = no emotion label yet") if single else []
    extra = schema_filters_ui(schema, ds["id"]) if schema is not None else {}
    sources = sb.multiselect("Label source", SOURCES, key="f_source")
    people = annotators()
    who = sb.selectbox("Last edited by", [None, *people], key="f_annotator",
                       format_func=lambda p: "anyone" if p is None else p["name"])
    valence = _range_ui("Valence", -1.0, 1.0, "f_valence")
    arousal = _range_ui("Arousal", -1.0, 1.0, "f_arousal")
    quality = _range_ui("Face quality", 0.0, 1.0, "f_quality")
    has_pred = sb.selectbox("Has prediction", [None, True, False], key="f_pred",
                            format_func=lambda v: {None: "any", True: "yes", False: "no"}[v])
    disagree = single and sb.checkbox("Label and prediction disagree", key="f_disagree")
    return SampleFilter(dataset_id=ds["id"], splits=chosen_splits or None, emotions=emotions or None,
                        sources=sources or None, annotator_id=who["id"] if who else None,
                        valence=valence, arousal=arousal, quality=quality, has_prediction=has_pred,
                        disagreement=disagree, sample_ids=st.session_state.get("va_selection"), **extra)


def clear_va_selection() -> None:
    """Drop the V/A plot filter and the plot's own selection (the chart gets a new key, so the
    selection it still holds cannot come back as a filter)."""
    st.session_state.update(va_selection=None, va_seen=None, va_gen=st.session_state.get("va_gen", 0) + 1)


def va_selection_ui(points: list[tuple]) -> None:
    """The V/A scatter; selecting points sets the grid filter (st.session_state["va_selection"]),
    clearing the plot's selection (double-click) drops it; either reruns the page body."""
    gen = st.session_state.get("va_gen", 0)
    event = st.plotly_chart(va_scatter_figure(points), key=f"va_scatter-{gen}", on_select="rerun",
                            selection_mode=("box", "lasso", "points"))
    picked = selected_ids(event) or None
    seen = st.session_state.get("va_seen")
    if picked == seen:
        return
    st.session_state["va_seen"] = picked
    st.session_state["va_selection"] = picked
    rerun_here()  # the filter above the plot changed


def rerun_here() -> None:
    """Rerun the running fragment when this is a fragment rerun, else the whole script
    (st.rerun(scope="fragment") is refused while a fragment runs as part of a full run)."""
    ctx = get_script_run_ctx()
    st.rerun(scope="fragment" if ctx is not None and ctx.fragment_ids_this_run else "app")
