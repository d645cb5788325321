"""Review of a richer schema's predictions: samples in best/worst/most-confident-wrong/random order,
the co-occurrence heatmap (label x label, label x prediction) whose cells list their samples, the
per-category table, and predicted-vs-true scatter per named target (and dominance)."""
from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from core.store.review import ReviewSource
from core.store.review_modes import (
    COOCCURRENCE,
    MODE_ORDERS,
    cell_ids,
    cooccurrence,
    has_emotion_labels,
    order_ids,
)
from ui.charts import cell_from_selection, confusion_figure, plural, va_pairs_figure
from ui.charts_modes import target_pairs_figure
from ui.data import samples_by_ids
from ui.grid import sample_grid_ui
from ui.label_format import distribution_text
from ui.review_data import mode_review_data, review_data
from ui.text import md

PAGE = 32


def _fmt(v: float | None) -> float | None:
    return None if v is None else round(float(v), 3)


def predicted_text(a: Any, sid: int) -> str:
    """What the model said for one sample, in words (categories above threshold, top classes)."""
    i = int(np.flatnonzero(a.ids == sid)[0])
    if a.scores is None or not has_emotion_labels(a):
        return ", ".join(f"{k[:5]} {pred[i]:.2f}" for k, (_, pred) in a.targets.items() if np.isfinite(pred[i]))
    if a.schema.emotion_mode == "multi":
        return ", ".join(c for c, s, t in zip(a.schema.classes, a.scores[i], a.thresholds) if s >= t) or "none"
    top = dict(sorted(zip(a.schema.classes, a.scores[i]), key=lambda kv: -kv[1])[:2])
    return distribution_text(top)


def relabel_from(ids: list[int], opened: int) -> None:
    """This page of samples goes to Relabel, starting at the one opened."""
    st.session_state["relabel_queue"] = ids[ids.index(opened):] + ids[:ids.index(opened)]
    st.session_state["relabel_mode"] = "handed over"
    st.switch_page("app_pages/relabel.py")


def samples_tab(a: Any, order: str, cell: tuple[str, str, str] | None) -> None:
    ids = order_ids(a, order, ids=cell_ids(a, *cell) if cell else None)
    offset = st.session_state.setdefault("rv_moffset", 0)
    shown = ids[offset:offset + PAGE]
    rows = [{**r, "source": "", "sources": {}} for r in samples_by_ids(shown)]
    opened = sample_grid_ui(rows, columns=8, key="review",
                            extra=lambda r: " · pred " + md(predicted_text(a, r["id"])))
    if opened is not None:
        relabel_from(shown, opened)
    if not rows:
        st.caption("No samples here" + (" for this cell." if cell else " with this order."))
    c1, c2, c3, c4 = st.columns([1, 1, 2, 4])
    c1.button("◀ Previous", disabled=offset == 0, key="rv_mprev",
              on_click=lambda: st.session_state.update(rv_moffset=max(0, offset - PAGE)))
    c2.button("Next ▶", disabled=offset + PAGE >= len(ids), key="rv_mnext",
              on_click=lambda: st.session_state.update(rv_moffset=offset + PAGE))
    c3.caption(f"{offset + 1 if ids else 0}-{min(len(ids), offset + PAGE)} of {plural(len(ids), 'sample')}")
    if cell:
        c4.button("Show all samples", key="rv_mclear",
                  on_click=lambda: st.session_state.update(rv_mcell=None, rv_moffset=0))


def cooccurrence_tab(a: Any) -> None:
    """The heatmap as selectable square markers; a clicked cell lists its samples."""
    kind = st.radio("Co-occurrence", COOCCURRENCE, horizontal=True, key="rv_mkind",
                    help="label x label: both categories in a sample's label; label x prediction: the "
                         "row category in the label and the column category predicted"
                    + (" (distributions: the dominant and the most probable class)"
                       if a.schema.emotion_mode == "distribution" else ""))
    classes = list(a.schema.classes)
    y_title = "label"
    x_title = "label" if kind == COOCCURRENCE[0] else "predicted"
    gen = st.session_state.setdefault("rv_mcm_gen", 0)  # a new chart key forgets its old selection
    event = st.plotly_chart(confusion_figure(cooccurrence(a, kind), classes, x_title=x_title, y_title=y_title),
                            key=f"rv_mcm-{gen}", on_select="rerun", selection_mode="points", width="content")
    picked = cell_from_selection(event)
    if picked is not None:
        st.session_state.update(rv_mcell=(kind, *picked), rv_moffset=0, rv_show_samples=True, rv_mcm_gen=gen + 1)
        st.rerun()
    st.caption("Click a cell to list its samples on the Samples tab.")


def categories_tab(metrics: dict[str, Any]) -> None:
    ml, dm = metrics.get("emotions"), metrics.get("distribution")
    if ml:
        st.dataframe([{"category": c, **{k: _fmt(v[k]) for k in ("precision", "recall", "f1", "ap", "threshold")},
                       "support": v["support"]} for c, v in ml["per_class"].items()],
                     hide_index=True, width="stretch", key="rv_mtable")
        st.caption(f"macro-F1 {ml['macro_f1']:.3f} · micro-F1 {ml['micro_f1']:.3f}"
                   + (f" · mAP {ml['map']:.3f}" if ml["map"] is not None else "")
                   + f" over {plural(ml['n'], 'labelled sample')} (each category at its threshold)")
    elif dm:
        st.dataframe([{"class": c, "CCC of intensity": _fmt(v)} for c, v in dm["ccc_per_class"].items()],
                     hide_index=True, width="stretch", key="rv_mtable")
        st.caption(f"KL {dm['kl']:.3f} (uniform {dm['kl_uniform']:.3f}) · top-1 agreement with the dominant "
                   f"emotion {dm['top1_agreement']:.1%} over {plural(dm['n'], 'labelled sample')}")
    else:
        st.caption("No labelled sample has a prediction here.")


def traits_tab(a: Any, metrics: dict[str, Any]) -> None:
    """A metrics row and a predicted-vs-true scatter per named target (and dominance)."""
    pairs = {t.name: (*a.targets[t.name], t.low, t.high) for t in a.schema.targets}
    found = dict(metrics.get("targets") or {})
    if a.dominance is not None:
        pairs["dominance"], found["dominance"] = (*a.dominance, -1.0, 1.0), metrics.get("dominance")
    rows = [{"target": name, **{k: _fmt(m[k]) for k in ("ccc", "mae", "rmse", "pearson", "one_minus_mae")},
             "n": m["n"]} for name, m in found.items() if m]
    if not rows:
        st.caption("No sample with a target label has a prediction for it here.")
        return
    st.dataframe(rows, hide_index=True, width="stretch", key="rv_ttable",
                 column_config={"one_minus_mae": st.column_config.NumberColumn("1 - MAE")})
    cols = st.columns(2)
    for i, (name, (true, pred, low, high)) in enumerate(p for p in pairs.items() if found.get(p[0])):
        ok = np.isfinite(true) & np.isfinite(pred)
        cols[i % 2].plotly_chart(target_pairs_figure(true[ok].tolist(), pred[ok].tolist(), name, low, high),
                                 key=f"rv_tp-{i}")


def va_tab(source: ReviewSource, split: str | None) -> None:
    """Predicted against true valence and arousal (the same arrays and CCC as single-label review)."""
    data = review_data(source, split)
    a = data["arrays"]
    ok = ~np.isnan(a["valence"]) & ~np.isnan(a["pred_valence"])
    if not ok.any():
        st.caption("No sample with a V/A label has a V/A prediction here.")
        return
    c1, c2 = st.columns(2)
    c1.plotly_chart(va_pairs_figure(a["valence"][ok], a["pred_valence"][ok], "valence"), key="rv_mv")
    c2.plotly_chart(va_pairs_figure(a["arousal"][ok], a["pred_arousal"][ok], "arousal"), key="rv_ma")
    m = data["metrics"]
    st.caption(" · ".join(f"{name} CCC {m[key]:.3f}" for name, key in (("valence", "ccc_valence"),
                                                                     ("arousal", "ccc_arousal"))
                          if m[key] is not None) or "CCC needs at least 2 labelled samples.")


def mode_review_ui(source: ReviewSource, split: str | None) -> None:
    """The Review page body for a multi-label, distribution or named-target schema."""
    order = st.sidebar.selectbox("Order", MODE_ORDERS, key="rv_morder")
    a, metrics = mode_review_data(source, split)
    cell = st.session_state.get("rv_mcell")  # (kind, row class, column class)
    emotions = has_emotion_labels(a)
    st.caption(f"{md(source.label)} · split {md(split or 'all')} · {plural(len(a.ids), 'prediction')}"
               + (f" · showing {md(cell[0])} cell {md(cell[1])} / {md(cell[2])}" if cell else ""))
    names = ["Samples", *(["Co-occurrence", "Per category"] if emotions else []),
             *(["Traits"] if a.targets or a.dominance is not None else []), "Valence / arousal"]
    if st.session_state.pop("rv_show_samples", False):
        st.session_state["rv_mtab"] = names[0]
    tabs = dict(zip(names, st.tabs(names, key="rv_mtab", on_change="rerun")))
    if tabs["Samples"].open:
        with tabs["Samples"]:
            samples_tab(a, order, cell if emotions else None)
    if "Co-occurrence" in tabs and tabs["Co-occurrence"].open:
        with tabs["Co-occurrence"]:
            cooccurrence_tab(a)
    if "Per category" in tabs and tabs["Per category"].open:
        with tabs["Per category"]:
            categories_tab(metrics)
    if "Traits" in tabs and tabs["Traits"].open:
        with tabs["Traits"]:
            traits_tab(a, metrics)
    if tabs["Valence / arousal"].open:
        with tabs["Valence / arousal"]:
            va_tab(source, split)
