"""Session-wide choices shared by pages: the annotator and the current dataset.

Who is labelling is kept in the URL (`?annotator=NAME`), so a reload or a copied link keeps it.
Nobody is "anonymous" by accident: labelling needs a name or the explicit anonymous choice, and
a hosted instance can refuse anonymous labels (AFFECTLAB_REQUIRE_ANNOTATOR=1).
"""
from __future__ import annotations

import os
from typing import Any

import streamlit as st

from ui.data import datasets

ANONYMOUS = "anonymous"
REQUIRE_ENV = "AFFECTLAB_REQUIRE_ANNOTATOR"


def annotator_required() -> bool:
    """True when this instance refuses anonymous labels."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _remembered() -> str:
    """The name from this session, else from the URL (a reload or a new tab)."""
    return (st.session_state.get("annotator") or st.query_params.get("annotator") or "").strip()[:100]


def annotator_ui() -> str | None:
    """Sidebar: your name, or (unless required) the deliberate anonymous choice; returns who is
    labelling (None until chosen) and keeps it in session state and the URL."""
    required = annotator_required()
    if "annotator_box" not in st.session_state:  # first run of this browser session
        known = _remembered()
        anonymous = known.lower() == ANONYMOUS
        st.session_state["annotator_box"] = "" if anonymous else known
        st.session_state["annotator_anon"] = anonymous and not required
    name = st.sidebar.text_input("Annotator", key="annotator_box", placeholder="your name",
                                 max_chars=100, help="Recorded with every label you save").strip()
    anon = not required and st.sidebar.checkbox(
        "Label anonymously", key="annotator_anon", disabled=bool(name),
        help="Your labels are saved as 'anonymous' and cannot be told apart from other anonymous labels")
    who = name or (ANONYMOUS if anon else None)
    if who is not None and required and who.lower() == ANONYMOUS:
        who = None
    st.session_state["annotator"] = who
    if who is None:
        st.query_params.pop("annotator", None)
        st.sidebar.warning("Enter your name to label" + ("." if required else
                                                          ", or tick 'Label anonymously'."))
    elif st.query_params.get("annotator") != who:
        st.query_params["annotator"] = who
    return who


def annotator() -> str | None:
    """Who is labelling (a name or "anonymous"); None when nobody has been chosen yet."""
    return st.session_state.get("annotator")


def dataset_ui(*, where: Any = st.sidebar) -> dict[str, Any] | None:
    """Pick a dataset (remembered across pages); None when the store is empty."""
    rows = datasets()
    if not rows:
        st.info("No datasets yet: import one with `python -m core import ...` or `python -m core demo`.")
        return None
    ids = [r["id"] for r in rows]
    current = st.session_state.get("dataset_id")
    index = ids.index(current) if current in ids else 0
    chosen = where.selectbox("Dataset", rows, index=index, format_func=lambda r: f"{r['name']} ({r['samples']})",
                             key=f"dataset_pick_{st.session_state.get('page', '')}")
    st.session_state["dataset_id"] = chosen["id"]
    return chosen
