"""Relabel's "my assignments" queue: the samples a labelling task still needs from this annotator.

The editor is fed by core.store.tasks.assignment_view, which in a blind task gives no current
label, no other person's label and no model prediction; saves go through submit_task_label.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.auth import AccessDenied
from core.store.db import read_session, write_session
from core.store.labels import ConflictError, LabelValueError
from core.store.tasks import TaskError, assignment_view, get_task, my_queue, submit_task_label, task_progress
from ui.agreement import dataset_tasks
from ui.auth import identity
from ui.clip_view import sample_columns_ui
from ui.label_editor import label_fields_ui
from ui.label_modes import edited_values, schema_of
from ui.labels import changed
from ui.state import annotator
from ui.text import md

MY_ASSIGNMENTS = "my assignments"


def assignment_modes(ds: dict[str, Any]) -> list[str]:
    """[MY_ASSIGNMENTS] when the dataset has an open task, else []."""
    return [MY_ASSIGNMENTS] if any(not t["closed"] for t in dataset_tasks(ds["name"])) else []


def assignments_ui(ds: dict[str, Any]) -> None:
    """Task choice in the sidebar, then the next sample this annotator owes."""
    tasks = [t["task"] for t in dataset_tasks(ds["name"]) if not t["closed"]]
    task = st.sidebar.selectbox("Task", tasks, key="assign_task")
    who = annotator()
    st.title(f"My assignments · {md(task)}")
    if who is None:
        st.warning("Choose who is labelling in the sidebar (or sign in) to get your assignments.")
        return
    _editor(ds, task, who)


def _next(ds: dict[str, Any], task: str, who: str) -> tuple[dict[str, Any], Any, list[int]]:
    skipped = st.session_state.setdefault("assign_skipped", {}).setdefault(task, [])
    with read_session() as s:
        t = get_task(s, ds["name"], task)
        queue = [i for i in my_queue(s, t, who, limit=len(skipped) + 50, identity=identity()) if i not in skipped]
        view = assignment_view(s, t, queue[0], who, identity=identity()) if queue else None
        return task_progress(s, t), view, queue


def _save(ds: dict[str, Any], task: str, who: str, sample: dict[str, Any], key: str) -> None:
    values: dict[str, Any] = edited_values(schema_of(ds), sample, key=key)  # multi-label, distribution, D, targets
    if st.session_state.get(f"{key}-emotion"):
        values["emotion"] = st.session_state[f"{key}-emotion"]
    v, a = st.session_state[f"{key}-v"], st.session_state[f"{key}-a"]
    if changed(sample["valence"] or 0.0, v) or changed(sample["arousal"] or 0.0, a):
        values.update(valence=v, arousal=a)
    stress = st.session_state.get(f"{key}-stress")
    if stress is not None and changed(sample["stress"] or 0.0, stress):
        values["stress"] = stress
    try:
        with write_session() as s, s.begin():
            ann = submit_task_label(s, get_task(s, ds["name"], task), sample["id"], annotator=who,
                                    identity=identity(), **values)
    except (TaskError, LabelValueError, ConflictError, AccessDenied) as exc:
        st.session_state["assign_msg"] = (False, f"Not saved: {exc}")
        return
    st.cache_data.clear()
    st.session_state["assign_msg"] = (True, f"Saved sample #{sample['id']} (annotation #{ann.id})")


def _skip(task: str, sample_id: int) -> None:
    st.session_state["assign_skipped"][task].append(sample_id)


@st.fragment
def _editor(ds: dict[str, Any], task: str, who: str) -> None:
    progress, view, queue = _next(ds, task, who)
    mine = progress["annotators"].get(who, {"labelled": 0, "owed": len(queue)})
    st.caption(f"you: {mine['labelled']} labelled, {mine['owed']} owed · task: {progress['complete']} of "
               f"{progress['samples']} samples complete (k = {progress['k']})")
    if msg := st.session_state.pop("assign_msg", None):
        st.success(msg[1]) if msg[0] else st.error(md(msg[1]))  # an error may quote names
    if view is None:
        st.info("Nothing left for you in this task — thank you." if not st.session_state["assign_skipped"][task]
                else "Only the samples you skipped are left.")
        if st.session_state["assign_skipped"][task]:
            st.button("Show the skipped ones again", key="assign_unskip",
                      on_click=lambda: st.session_state["assign_skipped"][task].clear())
        return
    sample = view.sample
    left, right = sample_columns_ui(sample["id"], sample["crop_path"])  # a clip: strip + player
    with left:
        if progress["blind"]:
            st.caption("Blind task: other people's labels and the model's prediction are hidden.")
        elif view.prediction is not None:
            st.caption(f"model says {md(view.prediction['emotion'])}")
    with right:
        key = f"as-{sample['id']}-{sample['head']}"
        schema = schema_of(ds)
        label_fields_ui(schema, ds["classes"], sample, key=key)
        c1, c2 = st.columns(2)
        c1.button("Save & next", type="primary", key="assign_save", width="stretch",
                  on_click=_save, args=(ds, task, who, sample, key))
        c2.button("Skip", key="assign_skip", width="stretch", on_click=_skip, args=(task, sample["id"]))
