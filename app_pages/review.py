"""Review: stored predictions (a run's evaluation or a model's prelabel) against the current labels."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.store.db import read_session
from core.store.review import ORDERS, review_rows
from ui.charts import cell_from_selection, confusion_figure, plural, va_pairs_figure
from ui.data import schema_by_id
from ui.grid import sample_grid_ui
from ui.review_clips import clip_review_ui, is_clip_review
from ui.review_data import review_data, review_sources
from ui.review_modes import mode_review_ui
from ui.snapshot_compare import snapshot_compare_ui
from ui.text import md

PAGE = 32
TABS = ["Samples", "Confusion matrix", "Valence / arousal", "Per class"]
st.session_state["page"] = "review"
st.title("Review predictions")
sources = review_sources()
if not sources:
    st.info("No stored predictions yet: `affectlab prelabel --dataset NAME --all` stores the default "
            "model's predictions for every face, or train a run and evaluate it "
            "(`affectlab evaluate --run N --split test`).")
    st.stop()
source = st.sidebar.selectbox("Predictions", sources, format_func=lambda s: s.label, key="rv_source")
split = st.sidebar.selectbox("Split", ["all", *source.splits], key="rv_split")
schema = schema_by_id(source.dataset_id)
snapshot_compare_ui(source)  # a run's predictions vs a snapshot taken after the one it trained on
if is_clip_review(source):  # a clip run: clips by each modality's loss, metrics per modality
    clip_review_ui(source, None if split == "all" else split)
    st.stop()
if schema is not None and (schema.emotion_mode != "single" or schema.targets or schema.dominance):
    mode_review_ui(source, None if split == "all" else split)  # multi-label, distribution, named targets
    st.stop()
order = st.sidebar.selectbox("Order", ORDERS, key="rv_order")
data = review_data(source, None if split == "all" else split)
emo = data["metrics"]["emotion"]
classes = emo["classes"] if emo else data["classes"]
cell = st.session_state.get("rv_cell")  # (true, predicted) picked on the confusion matrix
st.caption(f"{md(source.label)} · split {md(split)} · {plural(data['n'], 'prediction')} · "
           f"{plural(emo['n'] if emo else 0, 'labelled sample')}"
           + (f" · showing true {md(cell[0])}, predicted {md(cell[1])}" if cell else ""))
if st.session_state.pop("rv_show_samples", False):
    st.session_state["rv_tab"] = TABS[0]
grid_tab, confusion_tab, va_tab, table_tab = st.tabs(TABS, key="rv_tab", on_change="rerun")

if grid_tab.open:
    offset = st.session_state.setdefault("rv_offset", 0)
    with read_session() as s:
        rows = review_rows(s, source, split=None if split == "all" else split, order=order, limit=PAGE,
                           offset=offset, true_emotion=cell[0] if cell else None,
                           pred_emotion=cell[1] if cell else None)
    shown = [{**r, "source": "", "sources": {}} for r in rows]
    opened = sample_grid_ui(shown, columns=8, key="review",
                            extra=lambda r: f" · true {md(r['emotion'] or '—')} → pred {md(r['pred_emotion'])} "
                                            f"{r['confidence']:.0%}" + (f" · loss {r['loss']:.2f}" if r["loss"] is not None else ""))
    if opened is not None:  # "fix label": this page of samples goes to Relabel, starting at the one opened
        ids = [r["id"] for r in rows]
        st.session_state["relabel_queue"] = ids[ids.index(opened):] + ids[:ids.index(opened)]
        st.session_state["relabel_mode"] = "handed over"
        st.switch_page("app_pages/relabel.py")
    if not rows:
        st.caption("No samples here" + (" for this cell." if cell else " with this order (it needs labels)."))
    c1, c2, c3 = st.columns([1, 1, 6])
    if c1.button("◀ Previous", disabled=offset == 0, key="rv_prev"):
        st.session_state["rv_offset"] = max(0, offset - PAGE)
        st.rerun()
    if c2.button("Next ▶", disabled=len(rows) < PAGE, key="rv_next"):
        st.session_state["rv_offset"] = offset + PAGE
        st.rerun()
    if cell and c3.button("Show all cells", key="rv_clear"):
        st.session_state.update(rv_cell=None, rv_offset=0)
        st.rerun()

if confusion_tab.open:
    if emo is None:
        st.caption("No labelled sample has a prediction here.")
    else:
        gen = st.session_state.setdefault("rv_cm_gen", 0)  # a new chart key forgets its old selection
        event = st.plotly_chart(confusion_figure(emo["confusion"], classes), key=f"rv_cm-{gen}",
                                on_select="rerun", selection_mode="points", width="content")
        picked = cell_from_selection(event)
        if picked is not None:
            st.session_state.update(rv_cell=picked, rv_offset=0, rv_show_samples=True,
                                    rv_cm_gen=gen + 1)
            st.rerun()
        st.caption("Click a cell to list those samples on the Samples tab.")

if va_tab.open:
    a = data["arrays"]
    ok = ~np.isnan(a["valence"]) & ~np.isnan(a["pred_valence"])
    if not ok.any():
        st.caption("No sample with a V/A label has a V/A prediction here.")
    else:
        c1, c2 = st.columns(2)
        c1.plotly_chart(va_pairs_figure(a["valence"][ok], a["pred_valence"][ok], "valence"), key="rv_v")
        c2.plotly_chart(va_pairs_figure(a["arousal"][ok], a["pred_arousal"][ok], "arousal"), key="rv_a")
        m = data["metrics"]
        st.caption(" · ".join(f"{name} CCC {m[key]:.3f}" for name, key in (("valence", "ccc_valence"),
                                                                         ("arousal", "ccc_arousal"))
                              if m[key] is not None) or "CCC needs at least 2 labelled samples.")

if table_tab.open:
    if emo is None:
        st.caption("No labelled sample has a prediction here.")
    else:
        st.dataframe([{"class": c, **{k: round(v[k], 3) for k in ("precision", "recall", "f1")},
                       "support": v["support"]} for c, v in emo["per_class"].items()],
                     hide_index=True, width="stretch")
        m = data["metrics"]
        st.caption(f"accuracy {emo['accuracy']:.3f} · macro-F1 {emo['macro_f1']:.3f} over "
                   f"{plural(emo['n'], 'labelled sample')}"
                   + (f" · stress AUROC {m['stress_auroc']:.3f}" if m["stress_auroc"] is not None else ""))
        if data["flags"].get("va") == "prior" or data["flags"].get("stress") == "prior":
            st.caption(data["prior_note"])
