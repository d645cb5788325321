"""Model choice for the pages: the catalog's entries in a select box, loaded predictors cached."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.catalog import ModelEntry, list_models, load_predictor


@st.cache_data(ttl=5, show_spinner=False)
def model_entries(files: bool = True) -> list[ModelEntry]:
    """core.catalog.list_models, re-read at most every 5 s (a run that just finished appears)."""
    return list_models(files=files)


@st.cache_resource(show_spinner="Loading the model...", max_entries=8)
def predictor(entry: ModelEntry, *, warm: bool = False) -> Any:
    """One shared, thread-safe Predictor per catalog entry (ONNX Runtime where an export exists);
    warm: also run the network once now rather than on the first frame."""
    import numpy as np

    loaded = load_predictor(entry, threads=1, shared=True)
    if warm:  # the network's first run (core.live.LiveProcessor builds the stream's face models)
        loaded.predict_crops([np.zeros((112, 112, 3), np.uint8)])
    return loaded


def model_select_ui(*, key: str, where: Any = st.sidebar, files: bool = True) -> ModelEntry:
    """Pick a catalog entry (the default, a trained run, an exported file) by its label."""
    entries = model_entries(files)
    by_label = {e.label: e for e in entries}
    return by_label[where.selectbox("Model", list(by_label), key=key)]


def model_ui(*, key: str, where: Any = st.sidebar) -> tuple[ModelEntry, Any]:
    """Pick a model and load it; returns (entry, Predictor)."""
    entry = model_select_ui(key=key, where=where)
    return entry, predictor(entry)

