"""Train: launch multi-task training jobs, watch progress and curves, cancel, resume, compare runs."""
from __future__ import annotations

import streamlit as st
from sqlalchemy import select

from core.splits import split_dataset
from core.store.db import read_session, write_session
from core.store.models import Run
from training import jobs
from training.runs import create_run
from ui.data import stats
from ui.state import dataset_ui
from ui.text import md
from ui.training import curves_figure, run_row, train_form_ui

ACTIVE = ("queued", "starting", "running", "cancelling")
st.session_state["page"] = "train"
ds = dataset_ui()
if ds is None:
    st.stop()
st.title(f"Train · {md(ds['name'])}")
splits = stats(ds["id"])["by_split"]
if "train" not in splits:
    st.warning("This dataset has no train/val/test split yet.")
    if st.button("Split it 70/15/15 by subject", key="make_split"):
        with write_session() as s, s.begin():
            split_dataset(s, ds["id"], "70/15/15")
        st.cache_data.clear()
        st.rerun()
max_running = st.sidebar.number_input("Jobs at once", 1, 8, 1, key="max_running")
queue = jobs.JobQueue(max_running=int(max_running), stale_after_s=180)

config = train_form_ui(ds["name"])
if config is not None:
    run_id = create_run(config)
    queue.tick()
    st.session_state["train_run"] = run_id
    st.toast(f"Run {run_id} queued")


@st.fragment(run_every=2)
def live_runs() -> None:
    queue.tick()  # launches queued runs, notices crashed or cancelled ones
    with read_session() as s:
        runs = list(s.scalars(select(Run).order_by(Run.id.desc()).limit(50)))
    if not runs:
        st.info("No training runs yet.")
        return
    st.dataframe([run_row(r) for r in runs], hide_index=True, width="stretch", key="runs_table")
    ids = [r.id for r in runs]
    chosen = st.session_state.get("train_run")
    run_id = st.selectbox("Run", ids, index=ids.index(chosen) if chosen in ids else 0, key="run_pick")
    run = next(r for r in runs if r.id == run_id)
    p = run.progress or {}
    total = max(1, p.get("total_steps") or 1)
    st.progress(min(1.0, (p.get("global_step") or 0) / total) if run.status != "succeeded" else 1.0,
                text=f"run {run.id} {run.status} · epoch {p.get('epoch', 0)}/{p.get('epochs', '?')}"
                + (f" · ETA {p['eta_s']:.0f} s" if p.get("eta_s") and run.status == "running" else ""))
    c1, c2 = st.columns(2)
    if c1.button("Cancel", key=f"cancel-{run.id}", disabled=run.status not in ACTIVE):
        jobs.cancel(run.id)
        st.rerun()
    if c2.button("Resume", key=f"resume-{run.id}", disabled=run.status not in ("failed", "cancelled")):
        jobs.resume(run.id)
        st.rerun()
    if run.status == "succeeded":
        c1, c2 = st.columns([1, 3])
        split = c1.selectbox("Evaluate on", ["test", "val", "train"], key=f"eval-split-{run.id}")
        if c2.button("Evaluate and store predictions for Review", key=f"eval-{run.id}"):
            from training.eval_run import evaluate_run

            with st.spinner("evaluating..."):
                try:
                    result = evaluate_run(run.id, split=split)
                    st.session_state["eval_msg"] = (True, f"run {run.id} on {split}: {result['n']} samples, "
                                                          f"macro-F1 {result.get('macro_f1')}, combined {result.get('combined')}")
                except (LookupError, ValueError) as exc:
                    st.session_state["eval_msg"] = (False, str(exc))
            st.cache_data.clear()
        if msg := st.session_state.get("eval_msg"):
            (st.success if msg[0] else st.error)(msg[1])
    history = (run.metrics or {}).get("history") or []
    if history:
        cols = st.columns(3)
        for col, (metric, title) in zip(cols, [("train_loss", "training loss"), ("macro_f1", "val macro-F1"),
                                               ("ccc_va", "val CCC (mean V/A)")]):
            col.plotly_chart(curves_figure({run.id: history}, metric, title), key=f"curve-{metric}")
    with st.expander("Log"):
        st.code(jobs.tail_log(run.id, 30) or "(empty)")


live_runs()

st.subheader("Compare two runs")
with read_session() as s:
    done = list(s.scalars(select(Run).where(Run.metrics.is_not(None)).order_by(Run.id.desc()).limit(50)))
if len(done) >= 2:
    pick = st.multiselect("Runs", [r.id for r in done], default=[r.id for r in done[:2]], max_selections=2,
                          key="compare")
    chosen = [r for r in done if r.id in pick]
    table = []
    for r in chosen:
        best = (r.metrics.get("best") or {})
        val = best.get("val") or {}
        table.append({"run": r.id, "backbone": (r.config or {}).get("backbone"), "epochs": len(r.metrics.get("history", [])),
                      "best epoch": best.get("epoch"), "score": best.get("score"),
                      **{k: val.get(k) for k in ("accuracy", "macro_f1", "ccc_valence", "ccc_arousal", "stress_auroc")}})
    st.dataframe(table, hide_index=True, width="stretch")
    histories = {r.id: r.metrics.get("history", []) for r in chosen}
    cols = st.columns(2)
    cols[0].plotly_chart(curves_figure(histories, "train_loss", "training loss"), key="cmp-loss")
    cols[1].plotly_chart(curves_figure(histories, "combined", "val combined score"), key="cmp-score")
else:
    st.caption("Two finished runs are needed for a comparison.")
