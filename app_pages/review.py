"""Review: a run's predictions best/worst/most-confident-wrong, confusion matrix, V/A, fix labels."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.metrics import confusion_matrix, precision_recall_f1
from core.store.db import read_session
from core.store.models import Dataset, Run
from core.store.review import ORDERS, review_arrays, review_rows, runs_with_predictions
from ui.charts import confusion_figure, va_pairs_figure
from ui.grid import sample_grid_ui
from ui.text import md

PAGE = 32
st.session_state["page"] = "review"
st.title("Review predictions")
with read_session() as s:
    runs = runs_with_predictions(s)
if not runs:
    st.info("No evaluated runs yet: train one on the Train page, then run "
            "`python -m core evaluate --run N --split test`.")
    st.stop()
run_id = st.sidebar.selectbox("Run", [r for r, _ in runs], key="rv_run")
split = st.sidebar.selectbox("Split", dict(runs)[run_id], key="rv_split")
order = st.sidebar.selectbox("Order", ORDERS, key="rv_order")
with read_session() as s:
    run = s.get(Run, run_id)
    ds = s.get(Dataset, run.dataset_id) if run and run.dataset_id else None
    arrays = review_arrays(s, run_id, split=None if split == "all" else split)
classes = ds.taxonomy["classes"] if ds else sorted({c for c in arrays["true"] if c})
cell = st.session_state.get("rv_cell")  # (true, predicted) picked on the confusion matrix
st.caption(f"run {run_id} · {md(ds.name) if ds else '?'} · split {split} · {len(arrays['id'])} predictions"
           + (f" · showing true {cell[0]} predicted {cell[1]}" if cell else ""))

grid_tab, confusion_tab, va_tab, table_tab = st.tabs(["Samples", "Confusion matrix", "Valence / arousal",
                                                      "Per class"])
with grid_tab:
    offset = st.session_state.setdefault("rv_offset", 0)
    with read_session() as s:
        rows = review_rows(s, run_id, split=None if split == "all" else split, order=order, limit=PAGE,
                           offset=offset, true_emotion=cell[0] if cell else None,
                           pred_emotion=cell[1] if cell else None)
    shown = [{**r, "source": "", "sources": {}} for r in rows]
    opened = sample_grid_ui(shown, columns=8, key="review",
                            extra=lambda r: f" · true {r['emotion'] or '—'} → pred {r['pred_emotion']} "
                                            f"{r['confidence']:.0%}" + (f" · loss {r['loss']:.2f}" if r["loss"] is not None else ""))
    if opened is not None:  # "fix label": this page of samples goes to Relabel, starting at the one opened
        ids = [r["id"] for r in rows]
        st.session_state["relabel_queue"] = ids[ids.index(opened):] + ids[:ids.index(opened)]
        st.session_state["relabel_mode"] = "handed over"
        st.switch_page("app_pages/relabel.py")
    c1, c2, c3 = st.columns([1, 1, 6])
    if c1.button("◀ Previous", disabled=offset == 0, key="rv_prev"):
        st.session_state["rv_offset"] = max(0, offset - PAGE)
        st.rerun()
    if c2.button("Next ▶", disabled=len(rows) < PAGE, key="rv_next"):
        st.session_state["rv_offset"] = offset + PAGE
        st.rerun()
    if cell and c3.button("Show all cells", key="rv_clear"):
        st.session_state["rv_cell"] = None
        st.rerun()
labelled = np.array([t in classes and p in classes for t, p in zip(arrays["true"], arrays["pred"])], bool)
codes_t = np.array([classes.index(t) for t in arrays["true"][labelled]], dtype=int)
codes_p = np.array([classes.index(p) for p in arrays["pred"][labelled]], dtype=int)
with confusion_tab:
    cm = confusion_matrix(codes_t, codes_p, n_classes=len(classes))
    event = st.plotly_chart(confusion_figure(cm, classes), key="rv_cm", on_select="rerun",
                            selection_mode="points")
    points = event.selection.points if event else []
    if points and (points[0]["y"], points[0]["x"]) != cell:
        st.session_state.update(rv_cell=(points[0]["y"], points[0]["x"]), rv_offset=0)
        st.rerun()
    st.caption("Click a cell to list those samples on the Samples tab.")
with va_tab:
    ok = ~np.isnan(arrays["valence"]) & ~np.isnan(arrays["pred_valence"])
    c1, c2 = st.columns(2)
    c1.plotly_chart(va_pairs_figure(arrays["valence"][ok], arrays["pred_valence"][ok], "valence"), key="rv_v")
    c2.plotly_chart(va_pairs_figure(arrays["arousal"][ok], arrays["pred_arousal"][ok], "arousal"), key="rv_a")
with table_tab:
    prf = precision_recall_f1(codes_t, codes_p, n_classes=len(classes))
    st.dataframe([{"class": c, "precision": round(float(prf["precision"][i]), 3),
                   "recall": round(float(prf["recall"][i]), 3), "F1": round(float(prf["f1"][i]), 3),
                   "support": int(prf["support"][i])} for i, c in enumerate(classes)],
                 hide_index=True, width="stretch")
    st.caption(f"macro-F1 {prf['macro_f1']:.3f} over {int(labelled.sum())} labelled samples")
