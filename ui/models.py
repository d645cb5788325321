"""Model choice for the pages: the catalog's entries in a select box, loaded predictors cached."""
from __future__ import annotations

import logging
import os
from typing import Any, NoReturn

import streamlit as st

from core.catalog import ModelEntry, list_models, load_predictor
from core.config import REPO_ROOT, get_settings
from ui.text import md

log = logging.getLogger(__name__)


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
    """Pick a model and load it; returns (entry, Predictor). A model that cannot be loaded (a
    truncated checkpoint, a garbage ONNX file) is a message on the page, which stops there."""
    entry = model_select_ui(key=key, where=where)
    try:
        return entry, predictor(entry)
    except Exception as exc:  # noqa: BLE001 - the loader's clear error, shown without internals
        model_error_ui(entry, exc)


def model_error(entry: ModelEntry, exc: BaseException) -> str:
    """One line for the page: which model and why, the server's folders left out of file names."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    settings = get_settings()
    for root in sorted({str(settings.models_dir), str(settings.data_dir), str(REPO_ROOT)}, key=len, reverse=True):
        text = text.replace(root + os.sep, "")
    return f"Could not load the model {entry.label}: {text}"


def model_error_ui(entry: ModelEntry, exc: BaseException) -> NoReturn:
    """Show model_error (the traceback goes to the server log only) and stop the page run."""
    log.warning("model %s could not be loaded", entry.id, exc_info=exc)
    st.error(md(model_error(entry, exc)))
    st.stop()

