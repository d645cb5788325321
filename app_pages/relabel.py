"""Relabel: a queue of faces (a clip shows its frame strip and player); emotion buttons, a
clickable V/A circumplex, stress; save, accept the model's label, skip, undo. The editor is a
fragment: its buttons rerun only the editor."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.auth import auth_enabled
from core.model.prior import prior_note
from core.store.db import read_session
from core.store.labels import label_view
from core.store.queues import MODES
from ui.assignments import MY_ASSIGNMENTS, assignment_modes, assignments_ui
from ui.clip_view import sample_columns_ui
from ui.label_editor import label_fields_ui
from ui.label_format import history_text, prediction_text
from ui.label_modes import edited_values, schema_of
from ui.labels import accept_prediction, changed, save_label, undo_label
from ui.learning_queues import queue_ids, queue_source_ui
from ui.state import annotator, dataset_ui
from ui.text import md

st.session_state["page"] = "relabel"
ds = dataset_ui()
if ds is None:
    st.stop()
schema = schema_of(ds)  # single-label, multi-label or distribution; dominance; named targets
modes = (["handed over"] if st.session_state.get("relabel_queue") else []) + list(MODES) + assignment_modes(ds)
mode = st.sidebar.radio("Queue", modes, key="relabel_mode")
if mode == MY_ASSIGNMENTS:  # a labelling task's queue, with its own (blind) editor
    assignments_ui(ds)
    st.stop()
qkey = (ds["id"], mode, tuple(st.session_state.get("relabel_queue") or ()))
if st.session_state.get("rq_key") != qkey:
    if mode == "handed over":
        ids = list(st.session_state["relabel_queue"])
    else:
        ids = queue_ids(ds["id"], mode, limit=500)  # ui.learning_queues: also notes a learning queue's source
    st.session_state.update(rq_key=qkey, rq=ids, rq_pos=0, rq_base={}, rq_gen=0)
st.title(f"Relabel · {md(ds['name'])}")
queue_source_ui(mode)


def go_to(new_pos: int) -> None:
    """Show the sample at new_pos, fresh (its current head is the base of the next edit)."""
    st.session_state["rq_pos"] = new_pos
    st.session_state["rq_base"].pop(new_pos, None)
    st.session_state["rq_gen"] += 1  # new widget keys: nothing typed before carries over


def _done(outcome: tuple[bool, str, int | None], *, advance: bool) -> None:
    ok, text, head = outcome
    st.session_state["relabel_msg"] = (ok, text)
    if ok and advance:
        go_to(st.session_state["rq_pos"] + 1)
    elif ok:  # stay: the editor shows the label now current, and the next save builds on it
        st.session_state["rq_base"][st.session_state["rq_pos"]] = head
        st.session_state["rq_gen"] += 1


def _save(sample: dict[str, Any], key: str, prediction_id: int | None) -> None:
    v, a = st.session_state[f"{key}-v"], st.session_state[f"{key}-a"]
    stress = st.session_state.get(f"{key}-stress")
    _done(save_label(sample, annotator=annotator(), classes=ds["classes"] if schema.emotion_mode == "single" else None,
                     emotion=st.session_state.get(f"{key}-emotion"), valence=v, arousal=a, stress=stress,
                     touched_va=changed(sample["valence"] or 0.0, v) or changed(sample["arousal"] or 0.0, a),
                     touched_stress=stress is not None and changed(sample["stress"] or 0.0, stress),
                     prediction_id=prediction_id, extra=edited_values(schema, sample, key=key)),
          advance=True)


def _prediction_ui(pred: dict[str, Any] | None) -> None:
    if pred is None:
        st.caption("no model prediction for this face yet")
        return
    note = prior_note(pred["flags"])
    said = (f"**{md(pred['emotion'])}** ({pred['confidence']:.0%})" if schema.emotion_mode == "single"
            else f"**{md(prediction_text(schema.emotion_mode, pred))}**")
    st.write(f"model says {said}" + (f" · {note}" if note else ""))


def _history_ui(history: list) -> None:
    st.markdown("**Previous labels**")
    for h in history:
        who = md(h.annotator or h.source)
        st.caption(f"{h.created_at:%Y-%m-%d %H:%M} · {who} ({h.source}): {md(history_text(h.after, h.note))}")


@st.fragment
def editor() -> None:
    queue, pos = st.session_state["rq"], st.session_state["rq_pos"]
    if msg := st.session_state.pop("relabel_msg", None):
        if msg[0]:
            st.success(msg[1])
        else:
            st.error(md(msg[1]))  # a conflict names another annotator
    view = None
    while pos < len(queue):
        with read_session() as s:
            view = label_view(s, queue[pos])
        if view is not None and view.sample["dataset_id"] == ds["id"]:
            break
        pos = st.session_state["rq_pos"] = pos + 1  # deleted or moved meanwhile: skip it
    if pos >= len(queue):
        st.info(f"The '{mode}' queue is empty{' — all done' if queue else ''}.")
        if queue:
            st.button("◀ Back", key="back", on_click=go_to, args=(len(queue) - 1,))
        return
    # the label the editor first saw is the base of the edit, so a save made meanwhile is a conflict
    sample = dict(view.sample, head=st.session_state["rq_base"].setdefault(pos, view.sample["head"]))
    who, pred = annotator(), view.prediction
    st.caption(f"{mode} · {pos + 1} of {len(queue)} · annotator **{md(who or 'not chosen')}**")
    if who is None:
        st.warning("Sign in in the sidebar to label." if auth_enabled()
                   else "Choose who is labelling in the sidebar before saving.")
    left, right = sample_columns_ui(sample["id"], sample["crop_path"])  # a clip: strip + player
    with left:
        _prediction_ui(pred)
        _history_ui(view.history)
    with right:
        key = f"rl-{sample['id']}-{st.session_state['rq_gen']}"
        label_fields_ui(schema, ds["classes"], sample, key=key)  # emotion (schema's mode), V/A, D, targets, stress
        c1, c2 = st.columns(2)
        c1.button("Save & next", type="primary", shortcut="Enter", key="save", disabled=who is None,
                  width="stretch", on_click=_save, args=(sample, key, pred["id"] if pred else None))
        c2.button("Accept model", shortcut="a", key="accept", disabled=who is None or pred is None,
                  width="stretch", help="Save the model's label as yours and go on",
                  on_click=lambda: _done(accept_prediction(sample, pred, annotator=who, classes=ds["classes"],
                                                           schema=schema), advance=True))
        c3, c4, c5 = st.columns(3)
        c3.button("Skip", shortcut="s", key="skip", width="stretch", on_click=go_to, args=(pos + 1,))
        c4.button("Undo", shortcut="u", key="undo", disabled=who is None or sample["source"] != "human",
                  width="stretch", on_click=lambda: _done(undo_label(sample, annotator=who), advance=False))
        c5.button("◀ Back", key="back", disabled=pos == 0, width="stretch", on_click=go_to, args=(pos - 1,))
        if sample["head"] != view.sample["head"]:
            st.button("Reload: show the newer label", key="reload", on_click=go_to, args=(pos,))


editor()
