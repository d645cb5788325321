"""Relabel widgets and actions: emotion buttons with keyboard shortcuts, save, accept the model's
label, undo (with what it restored, in words)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.auth import AccessDenied
from core.label_schema import LabelSchema
from core.store.db import write_session
from core.store.labels import FIELDS, UNSET, ConflictError, LabelValueError, Undo, edit_label, undo_last
from ui.auth import identity
from ui.label_format import value_text
from ui.label_modes import accepted_values
from ui.text import md

Outcome = tuple[bool, str, int | None]  # ok, message, the sample's head afterwards


def _pick(state: str, value: str) -> None:
    st.session_state[state] = value


def emotion_buttons_ui(classes: list[str], current: str | None, *, key: str) -> str | None:
    """One button per class (keys 1..9 as shortcuts); returns the chosen class."""
    state = f"{key}-emotion"
    st.session_state.setdefault(state, current)
    cols = st.columns(min(4, len(classes)))
    for i, cls in enumerate(classes):
        chosen = st.session_state[state] == cls
        shortcut = str(i + 1) if i < 9 else None
        cols[i % len(cols)].button(cls, key=f"{key}-b{i}",  # Streamlit shows the shortcut key
                                   type="primary" if chosen else "secondary", width="stretch",
                                   shortcut=shortcut, on_click=_pick, args=(state, cls))
    return st.session_state[state]


def changed(before: Any, after: Any, tol: float = 1e-9) -> bool:
    if before is None or after is None:
        return before is not after
    return abs(float(before) - float(after)) > tol


def _saved(sample: dict[str, Any], *, annotator: str, classes: list[str] | None,
           prediction_id: int | None, **values: Any) -> Outcome:
    try:
        with write_session() as s, s.begin():
            ann = edit_label(s, sample["id"], base_annotation_id=sample["head"], annotator=annotator,
                             classes=classes, prediction_id=prediction_id, identity=identity(), **values)
    except (ConflictError, LabelValueError, AccessDenied) as exc:
        return False, f"Not saved: {exc}", None
    st.cache_data.clear()  # pages must show the new label at once
    based = f", based on the model's prediction #{prediction_id}" if prediction_id else ""
    return True, f"Saved sample #{sample['id']} (annotation #{ann.id}{based})", ann.id


def save_label(sample: dict[str, Any], *, annotator: str, classes: list[str] | None, emotion: str | None,
               valence: float, arousal: float, stress: float | None, touched_va: bool,
               touched_stress: bool, prediction_id: int | None = None,
               extra: dict[str, Any] | None = None) -> Outcome:
    """Save a human label based on the head the editor saw (and the prediction it showed);
    `extra`: the richer fields changed (emotions, distribution, dominance, targets)."""
    kwargs: dict[str, Any] = {"emotion": emotion if emotion else UNSET, **(extra or {})}
    if touched_va:
        kwargs.update(valence=valence, arousal=arousal)
    if touched_stress:
        kwargs["stress"] = stress
    return _saved(sample, annotator=annotator, classes=classes, prediction_id=prediction_id, **kwargs)


def accept_prediction(sample: dict[str, Any], prediction: dict[str, Any], *, annotator: str,
                      classes: list[str] | None, schema: LabelSchema | None = None) -> Outcome:
    """Save the model's label as the annotator's: its emotion (a multi-label schema: every
    category above its threshold; a distribution schema: the distribution), and V/A, stress,
    dominance and targets unless they are a prior (a prior is no judgement about this face)."""
    flags = prediction.get("flags") or {}
    if schema is None or schema.emotion_mode == "single":
        values = {"emotion": prediction["emotion"]}
    else:
        values = accepted_values(schema, prediction)
    if flags.get("va") != "prior" and prediction.get("valence") is not None:
        values.update(valence=prediction["valence"], arousal=prediction["arousal"])
    if flags.get("stress") != "prior" and prediction.get("stress") is not None and (schema is None or schema.stress):
        values["stress"] = prediction["stress"]
    return _saved(sample, annotator=annotator, classes=classes, prediction_id=prediction["id"],
                  note="accepted the model's label", **values)


def _value(field: str, value: Any) -> str:
    if value is None:
        return f"no {field}"
    return f"{field} {value:.2f}" if isinstance(value, float) else value_text(field, value)


def undo_message(undo: Undo, *, annotator: str) -> str:
    """'Restored emotion Happy, valence 0.20 (undid your edit of 17:02 UTC)'."""
    fields = [f for f in FIELDS if getattr(undo.undone, f) is not None] or list(FIELDS)
    restored = ", ".join(_value(f, undo.current[f]) for f in fields)
    who = undo.undone.annotator.name if undo.undone.annotator else None
    whose = "your" if who == annotator else f"{md(who)}'s" if who else "the"
    return f"Restored {restored} (undid {whose} edit of {undo.undone.created_at:%H:%M} UTC)"


def undo_label(sample: dict[str, Any], *, annotator: str) -> Outcome:
    """Undo the newest human edit of the sample; the outcome names what is current again."""
    try:
        with write_session() as s, s.begin():
            undo = undo_last(s, sample["id"], base_annotation_id=sample["head"], annotator=annotator,
                             identity=identity())
            message = undo_message(undo, annotator=annotator)
    except (ConflictError, LabelValueError, AccessDenied) as exc:
        return False, f"Not undone: {exc}", None
    st.cache_data.clear()
    return True, message, undo.current["head"]
