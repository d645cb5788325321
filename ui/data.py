"""Cached reads for pages: query results with a short TTL (never a cached DB session)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.store.datasets import list_datasets
from core.store.db import read_session
from core.store.queries import dataset_stats


@st.cache_data(ttl=5, show_spinner=False)
def datasets() -> list[dict[str, Any]]:
    with read_session() as s:
        return list_datasets(s)


@st.cache_data(ttl=5, show_spinner=False)
def stats(dataset_id: int) -> dict[str, Any]:
    with read_session() as s:
        return dataset_stats(s, dataset_id)
