"""Browse: filtered, paginated grid of faces, class balance, V/A scatter that filters the grid."""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.store.db import read_session
from core.store.samples import sample_points
from ui.charts import class_balance_figure, va_scatter_figure
from ui.data import count, page, stats
from ui.detail import sample_detail_ui
from ui.filters import browse_filters_ui
from ui.grid import sample_grid_ui
from ui.state import dataset_ui
from ui.text import md

PAGE = 48
st.session_state["page"] = "browse"
ds = dataset_ui()
if ds is None:
    st.stop()
st_ = stats(ds["id"])
flt = browse_filters_ui(ds, sorted(k for k in st_["by_split"] if k != "none") + ["none"])
key = repr(flt)
if st.session_state.get("browse_key") != key:  # new filters: back to the first page
    st.session_state.update(browse_key=key, browse_cursors=[None])
cursors = st.session_state["browse_cursors"]

st.title(f"Browse · {md(ds['name'])}")
total = count(key, flt, 100_000)
st.caption(f"{total:,}{'+' if total >= 100_000 else ''} samples match"
           + (f" · {len(flt.sample_ids)} selected on the V/A plot" if flt.sample_ids else ""))
grid_tab, balance_tab, va_tab = st.tabs(["Faces", "Class balance", "Valence / arousal"])
with grid_tab:
    rows = page(key, flt, cursors[-1], PAGE)
    opened = sample_grid_ui(rows, key="browse")
    c1, c2, c3 = st.columns([1, 1, 6])
    if c1.button("◀ Previous", disabled=len(cursors) == 1, key="prev"):
        cursors.pop()
        st.rerun()
    if c2.button("Next ▶", disabled=len(rows) < PAGE, key="next"):
        cursors.append(rows[-1]["id"])
        st.rerun()
    c3.caption(f"page {len(cursors)}")
    if opened is not None:
        st.session_state["detail_id"] = opened
with balance_tab:
    st.plotly_chart(class_balance_figure(st_["emotion_by_split"], ds["classes"]), key="balance")
with va_tab:
    with read_session() as s:
        pts = sample_points(s, replace(flt, sample_ids=None).where())  # the plot ignores its own selection
    event = st.plotly_chart(va_scatter_figure(pts), key="va_scatter", on_select="rerun",
                            selection_mode=("box", "lasso", "points"))
    picked = [p["customdata"][0] for p in (event.selection.points if event else []) if p.get("customdata")]
    if picked and picked != st.session_state.get("va_selection"):
        st.session_state["va_selection"] = picked
        st.rerun()
    if st.session_state.get("va_selection") and st.button("Clear plot selection"):
        st.session_state["va_selection"] = None
        st.rerun()
    st.caption(f"{len(pts)} labelled samples shown (spread over the matches). Select points to filter the grid.")

if st.session_state.get("detail_id"):
    st.divider()
    try:
        if sample_detail_ui(st.session_state["detail_id"]):
            st.session_state["relabel_queue"] = [st.session_state["detail_id"]]
            st.session_state["relabel_mode"] = "handed over"
            st.switch_page("app_pages/relabel.py")
    except LookupError as exc:
        st.session_state["detail_id"] = None
        st.error(str(exc))
