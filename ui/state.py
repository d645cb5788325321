"""Session-wide choices shared by pages: the annotator and the current dataset."""
from __future__ import annotations

from typing import Any

import streamlit as st

from ui.data import datasets


def annotator() -> str:
    return (st.session_state.get("annotator") or "anonymous").strip() or "anonymous"


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
