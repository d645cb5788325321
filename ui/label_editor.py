"""The label widgets of an editor (Relabel, a task's assignments): the emotion in the schema's
mode, the V/A circumplex, dominance and named targets, and stress when the schema has it."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.label_schema import LabelSchema
from ui.circumplex import circumplex_ui
from ui.label_modes import extra_fields_ui, mode_editor_ui
from ui.labels import emotion_buttons_ui


def label_fields_ui(schema: LabelSchema, classes: list[str], sample: dict[str, Any], *, key: str) -> None:
    """Draw the widgets under `key` (their values are read back from session state on save)."""
    if schema.emotion_mode == "single":
        emotion_buttons_ui(classes, sample["emotion"], key=key)
    else:  # toggle chips (multi-label) or classes and intensities (distribution)
        mode_editor_ui(schema, sample, key=key)
    circumplex_ui(sample["valence"], sample["arousal"], key=key)
    extra_fields_ui(schema, sample, key=key)  # dominance, named targets
    if schema.stress:
        st.slider("Stress", 0.0, 1.0, float(sample["stress"] or 0.0), 0.05, key=f"{key}-stress")
