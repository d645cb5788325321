"""Relabel widgets: emotion buttons with keyboard shortcuts, stress slider, save/undo actions."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.store.db import write_session
from core.store.labels import UNSET, ConflictError, LabelValueError, edit_label, undo_last


def emotion_buttons_ui(classes: list[str], current: str | None, *, key: str) -> str | None:
    """One button per class (keys 1..9 as shortcuts); returns the chosen class."""
    state = f"{key}-emotion"
    st.session_state.setdefault(state, current)
    cols = st.columns(min(4, len(classes)))
    for i, cls in enumerate(classes):
        chosen = st.session_state[state] == cls
        shortcut = str(i + 1) if i < 9 else None
        if cols[i % len(cols)].button(cls, key=f"{key}-b{i}",  # Streamlit shows the shortcut key
                                      type="primary" if chosen else "secondary", width="stretch",
                                      shortcut=shortcut):
            st.session_state[state] = cls
            st.rerun()
    return st.session_state[state]


def changed(before: Any, after: Any, tol: float = 1e-9) -> bool:
    if before is None or after is None:
        return before is not after
    return abs(float(before) - float(after)) > tol


def save_label(sample: dict[str, Any], *, annotator: str, classes: list[str], emotion: str | None,
               valence: float, arousal: float, stress: float, touched_va: bool,
               touched_stress: bool) -> tuple[bool, str]:
    """Save a human label based on the head the editor saw; (ok, message)."""
    kwargs: dict[str, Any] = {"emotion": emotion if emotion else UNSET}
    if touched_va:
        kwargs.update(valence=valence, arousal=arousal)
    if touched_stress:
        kwargs["stress"] = stress
    try:
        with write_session() as s, s.begin():
            ann = edit_label(s, sample["id"], base_annotation_id=sample["head"], annotator=annotator,
                             classes=classes, **kwargs)
    except ConflictError as exc:
        return False, f"Not saved: {exc}"
    except LabelValueError as exc:
        return False, f"Not saved: {exc}"
    st.cache_data.clear()  # pages must show the new label at once
    return True, f"Saved sample #{sample['id']} (annotation #{ann.id})"


def undo_label(sample: dict[str, Any], *, annotator: str) -> tuple[bool, str]:
    try:
        with write_session() as s, s.begin():
            ann = undo_last(s, sample["id"], base_annotation_id=sample["head"], annotator=annotator)
    except (ConflictError, LabelValueError) as exc:
        return False, f"Not undone: {exc}"
    st.cache_data.clear()
    return True, f"Undid {ann.note} on sample #{sample['id']}"
