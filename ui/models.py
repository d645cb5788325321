"""Cached model resources shared by the Upload, Models and Live pages."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.inference.catalog import model_choices


@st.cache_resource(show_spinner="Loading the model...")
def predictor(path: str | None) -> Any:
    """One shared Predictor per model (thread-safe; ONNX Runtime where an export exists)."""
    from core.inference import Predictor, default_predictor

    return default_predictor(backend="auto", threads=1) if path is None else Predictor(path, threads=1)


def model_ui(*, key: str, where: Any = st.sidebar) -> tuple[str, Any]:
    """Pick a model (the default or a trained run); returns (label, Predictor)."""
    choices = model_choices()
    label = where.selectbox("Model", list(choices), key=key)
    return label, predictor(choices[label])


def prior_note(flags: dict[str, str]) -> str:
    """Text marking outputs that are priors, e.g. "V/A and stress are a prior (untrained heads)"."""
    prior = [{"va": "V/A", "stress": "stress"}[k] for k in ("va", "stress") if flags.get(k) == "prior"]
    return f"{' and '.join(prior)} {'is' if len(prior) == 1 else 'are'} a prior from the emotion " \
           "probabilities (untrained head)" if prior else ""
