"""Review of a clip run: the run's metrics per modality (visual only / audio only / fused) and the
clips ordered best / worst by the chosen modality's per-clip loss, each by its representative frame."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.clips.sample_loss import ORDERS
from core.store.review import ReviewSource
from core.store.review_clips import MODALITY_NAMES, modality_table
from ui.charts import plural
from ui.grid import sample_grid_ui
from ui.review_data import clip_review_info, clip_review_page
from ui.review_modes import relabel_from
from ui.text import md

PAGE = 32


def is_clip_review(source: ReviewSource) -> bool:
    """Whether the source is a clip run (Review then shows clip_review_ui)."""
    return clip_review_info(source)[0]


def _restart() -> None:
    st.session_state["rv_coffset"] = 0


def modality_metrics_ui(metrics: dict[str, dict[str, float]]) -> None:
    """The run's held-out metrics as one row per modality, the metric names as the run reported them."""
    if not metrics:
        st.caption("The run reported no metrics per modality.")
        return
    st.dataframe(modality_table(metrics), hide_index=True, width="stretch", key="rv_ctable")
    st.caption("Metrics on the run's held-out clips; an audio-visual model is also evaluated with its "
               "audio hidden (visual only) and its frames hidden (audio only).")


def _pred_text(r: dict[str, Any]) -> str:
    """The confidence of the predicted emotion (named in the caption) and the predicted traits."""
    pred = r["pred"]
    conf = f" {pred['confidence']:.0%}" if r["pred_emotion"] and pred.get("confidence") is not None else ""
    traits = ", ".join(f"{k[:5]} {v:.2f}" for k, v in (pred.get("targets") or {}).items())
    return conf + (f" · {md(traits)}" if traits else "")


def _clip_text(r: dict[str, Any], modality: str) -> str:
    loss = "—" if r["loss"] is None else f"{r['loss']:.3f}"
    return (f"{_pred_text(r)} · {r['start']:.1f}–{r['end']:.1f} s · face in {r['faces']}/{r['slots']} frames"
            f" · {'audio' if r['audio'] else 'no audio'} · {md(r['split'] or '')} · "
            f"{MODALITY_NAMES.get(modality, modality)} loss {loss}")


def clip_grid_ui(source: ReviewSource, split: str | None, modality: str, order: str) -> None:
    """A page of clips in that order; "open" hands the page to Relabel from the clip opened."""
    offset = st.session_state.setdefault("rv_coffset", 0)
    rows, total = clip_review_page(source, split, modality, order, offset, PAGE)
    opened = sample_grid_ui(rows, columns=8, key="review", extra=lambda r: _clip_text(r, modality))
    if opened is not None:
        relabel_from([r["id"] for r in rows], opened)
    if not rows:
        st.caption("No clip here has a label this model was trained on, so none has a loss.")
    c1, c2, c3 = st.columns([1, 1, 6])
    c1.button("◀ Previous", disabled=offset == 0, key="rv_cprev",
              on_click=lambda: st.session_state.update(rv_coffset=max(0, offset - PAGE)))
    c2.button("Next ▶", disabled=offset + PAGE >= total, key="rv_cnext",
              on_click=lambda: st.session_state.update(rv_coffset=offset + PAGE))
    c3.caption(f"{offset + 1 if total else 0}-{min(total, offset + PAGE)} of {plural(total, 'clip')} with a loss")


def clip_review_ui(source: ReviewSource, split: str | None) -> None:
    """The Review page body for a clip run: per-modality metrics, then clips by the chosen
    modality's loss."""
    _, modalities, metrics = clip_review_info(source)
    modality = st.sidebar.selectbox("Modality", modalities or ["fused"], key="rv_cmod", on_change=_restart,
                                    format_func=lambda m: MODALITY_NAMES.get(m, m),
                                    help="order the clips by this modality's loss")
    order = st.sidebar.selectbox("Order", ORDERS, key="rv_corder", on_change=_restart)
    st.caption(f"{md(source.label)} · split {md(split or 'all')} · clips ordered by the "
               f"{MODALITY_NAMES.get(modality, modality)} loss, {order} first")
    st.subheader("Metrics per modality")
    modality_metrics_ui(metrics)
    st.subheader("Clips")
    clip_grid_ui(source, split, modality, order)
