"""Browse: filtered, paginated grid of faces, class balance, V/A scatter that filters the grid.

The page body is a fragment: a filter change, a page turn or a plot selection reruns it alone;
only the active tab is drawn; the sample detail opens in a dialog with previous/next.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from ui.charts import plural
from ui.clip_view import with_clip_badges
from ui.data import count, page, stats, va_points
from ui.detail import sample_detail_ui
from ui.filters import browse_filters_ui, clear_va_selection, va_selection_ui
from ui.grid import sample_grid_ui
from ui.label_modes import balance_ui, schema_of
from ui.state import dataset_ui
from ui.text import md

PAGE = 48
CAP = 100_000  # counting stops here
TABS = ["Faces", "Class balance", "Valence / arousal"]
st.session_state["page"] = "browse"


def _close_detail() -> None:
    st.session_state["detail_id"] = None


def _show(sample_id: int) -> None:
    st.session_state["detail_id"] = sample_id


@st.dialog("Sample detail", width="large", on_dismiss=_close_detail)
def detail_dialog() -> None:
    """The opened sample with previous/next over the grid page it was opened from."""
    ids: list[int] = st.session_state.get("detail_ids") or []
    sid = st.session_state["detail_id"]
    pos = ids.index(sid) if sid in ids else None
    c1, c2, c3 = st.columns([1, 1, 3])
    last = pos is None or pos >= len(ids) - 1
    c1.button("◀ Previous", key="detail_prev", disabled=not pos, on_click=_show,
              args=(ids[pos - 1] if pos else sid,))
    c2.button("Next ▶", key="detail_next", disabled=last, on_click=_show,
              args=(sid if last else ids[pos + 1],))
    if pos is not None:
        c3.caption(f"{pos + 1} of {len(ids)} on this page")
    try:
        if sample_detail_ui(sid):
            st.session_state.update(relabel_queue=[sid], relabel_mode="handed over", detail_id=None)
            st.switch_page("app_pages/relabel.py")
    except LookupError as exc:
        st.session_state["detail_id"] = None
        st.error(str(exc))


def faces_tab(flt: Any, cursors: list[int | None]) -> None:
    rows = with_clip_badges(page(repr(flt), flt, cursors[-1], PAGE))
    opened = sample_grid_ui(rows, key="browse")
    c1, c2, c3 = st.columns([1, 1, 6])
    c1.button("◀ Previous", disabled=len(cursors) == 1, key="prev", on_click=cursors.pop)
    c2.button("Next ▶", disabled=len(rows) < PAGE, key="next", on_click=cursors.append,
              args=(rows[-1]["id"] if rows else None,))
    c3.caption(f"page {len(cursors)}")
    if opened is not None:
        st.session_state.update(detail_id=opened, detail_ids=[r["id"] for r in rows])


@st.fragment
def browse(ds: dict[str, Any]) -> None:
    summary = stats(ds["id"])
    flt = browse_filters_ui(ds, sorted(k for k in summary["by_split"] if k != "none") + ["none"], schema_of(ds))
    key = repr(flt)
    if st.session_state.get("browse_key") != key:  # new filters: back to the first page
        st.session_state.update(browse_key=key, browse_cursors=[None])
    st.title(f"Browse · {md(ds['name'])}")
    total = count(key, flt, CAP)
    selected = flt.sample_ids
    st.caption(f"{plural(total, 'sample')}{'+' if total >= CAP else ''} match"
               + (f" · {len(selected)} selected on the V/A plot" if selected else ""))
    if selected:
        st.button("Clear plot selection", key="va_clear", on_click=clear_va_selection)
    faces, balance, va = st.tabs(TABS, key="browse_tab", on_change="rerun")
    if faces.open:
        faces_tab(flt, st.session_state["browse_cursors"])
    if balance.open:
        balance_ui(summary, schema_of(ds), key="balance")
    if va.open:
        unselected = replace(flt, sample_ids=None)  # the plot ignores its own selection
        pts = va_points(repr(unselected), unselected.where())
        va_selection_ui(pts)
        st.caption(f"{plural(len(pts), 'labelled sample')} shown (spread over the matches). "
                   "Select points (lasso or box) to filter the faces; double-click to clear.")
    else:  # the hidden chart forgets its selection; the filter stays until cleared
        st.session_state["va_seen"] = None
    if st.session_state.get("detail_id"):
        detail_dialog()


ds = dataset_ui()
if ds is None:
    st.stop()
browse(ds)
