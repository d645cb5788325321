"""Cached reads for pages: query results with a short TTL (never a cached DB session)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.label_schema import LabelSchema
from core.store.datasets import dataset_schema, list_datasets, require_dataset
from core.store.db import read_session
from core.store.queries import (
    SampleFilter,
    count_samples,
    dataset_stats,
    list_annotators,
    page_samples,
    recent_edits,
    recent_runs,
)
from core.store.samples import sample_points


@st.cache_data(ttl=5, show_spinner=False)
def datasets() -> list[dict[str, Any]]:
    with read_session() as s:
        return list_datasets(s)


@st.cache_data(ttl=30, show_spinner=False)
def label_schema(name: str) -> LabelSchema:
    """The label schema of dataset `name` (single-label over its taxonomy when it declares none)."""
    with read_session() as s:
        return dataset_schema(require_dataset(s, name))


@st.cache_data(ttl=60, show_spinner=False)  # a full scan at 1M samples; writes clear the cache
def stats(dataset_id: int) -> dict[str, Any]:
    with read_session() as s:
        return dataset_stats(s, dataset_id)


@st.cache_data(ttl=30, show_spinner=False)
def annotators() -> list[dict[str, Any]]:
    with read_session() as s:
        return list_annotators(s)


@st.cache_data(ttl=5, show_spinner=False)
def page(flt_key: str, _flt: Any, after_id: int | None, limit: int) -> list[dict[str, Any]]:
    """One page of samples as plain dicts (cached per filter + cursor for a few seconds)."""
    with read_session() as s:
        return [sample_dict(x) for x in page_samples(s, _flt, limit=limit, after_id=after_id)]


def samples_by_ids(ids: list[int]) -> list[dict[str, Any]]:
    """These samples as plain dicts, in the order given (missing ones left out)."""
    if not ids:
        return []
    with read_session() as s:
        found = {x.id: sample_dict(x) for x in page_samples(s, SampleFilter(sample_ids=list(ids)), limit=len(ids))}
    return [found[i] for i in ids if i in found]


def schema_by_id(dataset_id: int) -> LabelSchema | None:
    """The label schema of a dataset by id (None when it is gone)."""
    name = next((r["name"] for r in datasets() if r["id"] == dataset_id), None)
    return None if name is None else label_schema(name)


@st.cache_data(ttl=5, show_spinner=False)
def count(flt_key: str, _flt: Any, cap: int) -> int:
    with read_session() as s:
        return count_samples(s, _flt, cap=cap)


@st.cache_data(ttl=30, show_spinner=False)
def va_points(flt_key: str, _where: list[Any]) -> list[tuple]:
    """(id, valence, arousal, emotion) of labelled samples matching the filter (cached per key)."""
    with read_session() as s:
        return sample_points(s, _where)


@st.cache_data(ttl=10, show_spinner=False)
def edits_and_runs(limit: int = 10) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with read_session() as s:
        return recent_edits(s, limit=limit), recent_runs(s, limit=limit)


def sample_dict(x: Any) -> dict[str, Any]:
    return {"id": x.id, "crop_path": x.crop_path, "emotion": x.cur_emotion, "valence": x.cur_valence,
            "arousal": x.cur_arousal, "stress": x.cur_stress, "source": x.cur_source,
            "sources": x.cur_sources or {}, "split": x.split, "quality": x.quality,
            "pred_emotion": x.pred_emotion, "pred_confidence": x.pred_confidence,
            "subject": x.subject, "head": x.cur_annotation_id, "emotions": x.cur_emotions,
            "distribution": x.cur_distribution, "dominance": x.cur_dominance, "targets": x.cur_targets}
