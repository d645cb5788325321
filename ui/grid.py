"""A grid of face crops with captions; returns the sample the user opened."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.config import get_settings
from core.paths import PathRefused, confined
from ui.label_format import distribution_text
from ui.text import md


def _label(s: dict[str, Any]) -> tuple[str, str]:
    """The sample's emotion label in words and the field it is in: one emotion, the multi-label
    set, the distribution's top classes, else its named targets."""
    if s.get("emotion"):
        return s["emotion"], "emotion"
    if s.get("emotions") is not None:
        return ", ".join(s["emotions"]) or "no category", "emotions"
    if s.get("distribution") is not None:
        return distribution_text(s["distribution"]), "distribution"
    if s.get("targets"):
        return ", ".join(f"{k[:5]} {v:.2f}" for k, v in s["targets"].items()), "targets"
    return "unlabelled", "emotion"


def caption(s: dict[str, Any]) -> str:
    label, field = _label(s)
    sources = s.get("sources") or {}
    if field == "targets":
        src = next((v for k, v in sources.items() if k.startswith("target:")), "")
    else:
        src = sources.get(field, s["source"] or "")
    label += f" ({src})" if src else ""
    va = ("" if s["valence"] is None else f" v{s['valence']:+.2f} a{s['arousal']:+.2f}")
    pred = f" · pred {s['pred_emotion']}" if s.get("pred_emotion") else ""
    return f"#{s['id']} {label}{va}{pred}"


def _crop_file(stored: str, root: Path) -> Path | None:
    """core.paths.data_file with the data dir read once per grid, not once per image."""
    try:
        path = confined(stored, (root,))
    except PathRefused:
        return None
    return path if path.is_file() else None


def sample_grid_ui(samples: list[dict[str, Any]], *, columns: int = 8, key: str = "grid",
                   extra: callable = None) -> int | None:
    """Draw crops in rows of `columns`; returns the id whose "open" button was pressed."""
    opened = None
    root = get_settings().data_dir
    for start in range(0, len(samples), columns):
        cols = st.columns(columns)
        for col, s in zip(cols, samples[start:start + columns]):
            with col:
                path = _crop_file(s["crop_path"], root)  # None: missing, or leading outside
                if path is not None:  # PNG as stored: no re-encoding per rerun
                    st.image(str(path), width="stretch", output_format="PNG" if path.suffix == ".png" else "auto")
                else:
                    st.warning("crop file missing")
                if s.get("clip"):  # a clip sample (ui.clip_view.with_clip_badges): "clip · N frames · S s"
                    st.caption(s["clip"])
                st.caption(md(caption(s)) + (extra(s) if extra else ""))
                if st.button("open", key=f"{key}-open-{s['id']}", type="tertiary"):
                    opened = s["id"]
    return opened
