"""A grid of face crops with captions; returns the sample the user opened."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.paths import data_file
from ui.text import md


def caption(s: dict[str, Any]) -> str:
    label = s["emotion"] or "unlabelled"
    src = s["sources"].get("emotion", s["source"] or "")
    label += f" ({src})" if src else ""
    va = ("" if s["valence"] is None else f" v{s['valence']:+.2f} a{s['arousal']:+.2f}")
    pred = f" · pred {s['pred_emotion']}" if s.get("pred_emotion") else ""
    return f"#{s['id']} {label}{va}{pred}"


def sample_grid_ui(samples: list[dict[str, Any]], *, columns: int = 8, key: str = "grid",
                   extra: callable = None) -> int | None:
    """Draw crops in rows of `columns`; returns the id whose "open" button was pressed."""
    opened = None
    for start in range(0, len(samples), columns):
        cols = st.columns(columns)
        for col, s in zip(cols, samples[start:start + columns]):
            with col:
                path = data_file(s["crop_path"])  # None: missing, or a stored path leading outside
                if path is not None:
                    st.image(str(path), width="stretch")
                else:
                    st.warning("crop file missing")
                st.caption(md(caption(s)) + (extra(s) if extra else ""))
                if st.button("open", key=f"{key}-open-{s['id']}", type="tertiary"):
                    opened = s["id"]
    return opened
