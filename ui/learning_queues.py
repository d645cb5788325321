"""Relabel's learning queues (likely wrong, likely wrong V/A, label next): ids plus a caption that
names where their predictions came from (held-out model, cross-validation over features, ...)."""
from __future__ import annotations

import streamlit as st

from core.store.db import read_session
from core.store.learning_queues import Queue
from core.store.queues import relabel_queue, smart_queue
from ui.text import md

SMART = ("likely wrong", "likely wrong V/A", "label next (uncertain)")


def source_text(q: Queue) -> str:
    """One line: what the queue ranks, from which predictions, how many samples."""
    d = q.detail
    if q.source == "held-out":
        versions = ", ".join(f"{v} ({n})" for v, n in d.get("model_versions", {}).items())
        origin = f"held-out predictions of {versions or 'no model'} (samples those models did not train on)"
    elif q.source == "cross-val":
        origin = (f"{d['folds']}-fold cross-validated {d['model']} over the '{d['features']}' features, folds "
                  f"grouped by video" if d.get("features") else "cross-validation: no stored features")
    elif q.source == "current model":
        origin = "the newest predictions of " + ", ".join(d.get("model_versions", {}))
    else:
        origin = (f"a {d['model']} fitted on {d['trained_on']} labelled samples' '{d['features']}' features"
                  if d.get("features") else "no predictions and no features")
    extra = (f"; {d['uncertainty']} uncertainty, at most {d['per_group']} per video, {d['diversity']}"
             if "uncertainty" in d else "")
    note = f" — {d['note']}" if d.get("note") else ""
    return f"{len(q.ids)} samples · from {origin}{extra}{note}"


def queue_ids(dataset_id: int, mode: str, *, limit: int = 500) -> list[int]:
    """The queue's sample ids; a learning queue also leaves its source line for queue_source_ui."""
    with read_session() as s:
        if mode not in SMART:
            st.session_state.pop("rq_source", None)
            return relabel_queue(s, dataset_id, mode, limit=limit)
        q = smart_queue(s, dataset_id, mode, limit=limit)
    st.session_state["rq_source"] = source_text(q)
    return q.ids


def queue_source_ui(mode: str) -> None:
    if mode in SMART and (text := st.session_state.get("rq_source")):
        st.caption(md(text))
