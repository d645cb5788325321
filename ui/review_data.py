"""Cached reads of the Review page (apart from ui.data: they load scikit-learn, which other pages
need not pay for at start-up)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.store.db import read_session
from core.store.review import ReviewSource, review_summary
from core.store.review import review_sources as _review_sources
from core.store.review_clips import clip_review_rows, is_clip_source, modality_metrics, stored_modalities
from core.store.review_modes import ModeArrays, mode_arrays, mode_metrics


@st.cache_data(ttl=10, show_spinner=False)
def review_sources() -> list[ReviewSource]:
    with read_session() as s:
        return _review_sources(s)


@st.cache_data(ttl=30, show_spinner=False)
def review_data(source: ReviewSource, split: str | None) -> dict[str, Any]:
    """core.store.review.review_summary, cached."""
    with read_session() as s:
        return review_summary(s, source, split=split)


@st.cache_data(ttl=30, show_spinner=False)
def mode_review_data(source: ReviewSource, split: str | None) -> tuple[ModeArrays, dict[str, Any]]:
    """core.store.review_modes: the aligned arrays and the per-mode metrics, cached."""
    with read_session() as s:
        arrays = mode_arrays(s, source, split=split)
    return arrays, mode_metrics(arrays)


@st.cache_data(ttl=30, show_spinner=False)
def clip_review_info(source: ReviewSource) -> tuple[bool, list[str], dict[str, dict[str, float]]]:
    """(whether the source is a clip run, the modalities its predictions carry, the run's metrics
    per modality) from core.store.review_clips, cached."""
    with read_session() as s:
        if not is_clip_source(s, source):
            return False, [], {}
        return True, stored_modalities(s, source), modality_metrics(s, source.run_id)


@st.cache_data(ttl=30, show_spinner=False)
def clip_review_page(source: ReviewSource, split: str | None, modality: str, order: str, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:
    """core.store.review_clips.clip_review_rows, cached."""
    with read_session() as s:
        return clip_review_rows(s, source, split=split, modality=modality, order=order, limit=limit, offset=offset)
