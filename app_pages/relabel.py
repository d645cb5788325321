"""Relabel: a queue of faces; emotion buttons, a clickable V/A circumplex, stress; save, skip, undo."""
from __future__ import annotations

import streamlit as st

from core.model.prior import prior_note
from core.store.db import read_session
from core.store.models import Sample
from core.store.queues import MODES, relabel_queue
from core.store.samples import sample_detail
from core.viz import bgr_to_rgb, crop_image
from ui.circumplex import circumplex_ui
from ui.data import sample_dict
from ui.labels import changed, emotion_buttons_ui, save_label, undo_label
from ui.state import annotator, dataset_ui
from ui.text import md

st.session_state["page"] = "relabel"
ds = dataset_ui()
if ds is None:
    st.stop()
modes = (["handed over"] if st.session_state.get("relabel_queue") else []) + list(MODES)
mode = st.sidebar.radio("Queue", modes, key="relabel_mode")
qkey = (ds["id"], mode, tuple(st.session_state.get("relabel_queue") or ()))
if st.session_state.get("rq_key") != qkey:
    if mode == "handed over":
        ids = list(st.session_state["relabel_queue"])
    else:
        with read_session() as s:
            ids = relabel_queue(s, ds["id"], mode, limit=500)
    st.session_state.update(rq_key=qkey, rq=ids, rq_pos=0, rq_base={})
queue, pos = st.session_state["rq"], st.session_state["rq_pos"]

st.title(f"Relabel · {md(ds['name'])}")
if msg := st.session_state.pop("relabel_msg", None):
    if msg[0]:
        st.success(msg[1])
    else:
        st.error(md(msg[1]))  # a conflict names another annotator


def go_to(new_pos: int) -> None:
    st.session_state["rq_pos"] = new_pos
    st.session_state.setdefault("rq_base", {}).pop(new_pos, None)  # see it fresh when shown again
    st.rerun()


if pos >= len(queue):
    st.info(f"The '{mode}' queue is empty{' — all done' if queue else ''}.")
    if queue and st.button("◀ Back", key="back"):
        go_to(len(queue) - 1)
    st.stop()
with read_session() as s:
    smp = s.get(Sample, queue[pos])
    if smp is None or smp.dataset_id != ds["id"]:
        go_to(pos + 1)
    sample, detail = sample_dict(smp), sample_detail(s, smp.id)
# the label the editor first saw is the base of the edit, so a save made meanwhile is a conflict
base = st.session_state.setdefault("rq_base", {}).setdefault(pos, sample["head"])
sample["head"] = base
st.caption(f"{mode} · {pos + 1} of {len(queue)} · annotator **{md(annotator())}**")
left, right = st.columns([2, 3])
with left:
    st.image(bgr_to_rgb(crop_image(sample["crop_path"])), width=320, caption=f"sample #{sample['id']}")
    if detail.predictions:
        p = detail.predictions[0]
        st.write(f"model says **{md(p.emotion)}** ({p.confidence:.0%})"
                 + (f" · {note}" if (note := prior_note(p.flags)) else ""))
    st.markdown("**Previous labels**")
    for h in detail.history[:6]:
        who = md(h.annotator or h.source)
        vals = ", ".join(f"{k} {v:+.2f}" if isinstance(v, float) else f"{k} {md(v)}"
                         for k, v in h.after.items() if v is not None) or md(h.note) or "—"
        st.caption(f"{h.created_at:%Y-%m-%d %H:%M} · {who} ({h.source}): {vals}")
with right:
    key = f"rl-{sample['id']}-{sample['head']}"
    emotion = emotion_buttons_ui(ds["classes"], sample["emotion"], key=key)
    v, a = circumplex_ui(sample["valence"], sample["arousal"], key=key)
    stress = st.slider("Stress", 0.0, 1.0, float(sample["stress"] or 0.0), 0.05, key=f"{key}-stress")
    touched_va = changed(sample["valence"] or 0.0, v) or changed(sample["arousal"] or 0.0, a)
    touched_stress = changed(sample["stress"] or 0.0, stress)
    c1, c2, c3, c4 = st.columns(4)
    if c1.button("Save & next", type="primary", shortcut="Enter", key="save"):
        ok, text = save_label(sample, annotator=annotator(), classes=ds["classes"], emotion=emotion,
                              valence=v, arousal=a, stress=stress, touched_va=touched_va,
                              touched_stress=touched_stress)
        st.session_state["relabel_msg"] = (ok, text)
        go_to(pos + 1) if ok else st.rerun()
    if c2.button("Skip", shortcut="s", key="skip"):
        go_to(pos + 1)
    if c3.button("Undo", shortcut="u", key="undo", disabled=sample["source"] != "human"):
        st.session_state["relabel_msg"] = undo_label(sample, annotator=annotator())
        st.rerun()
    if c4.button("◀ Back", key="back", disabled=pos == 0):
        go_to(pos - 1)
    if base != detail.sample.cur_annotation_id and st.button("Reload: show the newer label", key="reload"):
        go_to(pos)
