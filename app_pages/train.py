"""Train: queue training runs, watch progress and curves, cancel, resume, evaluate, compare runs.

The page only creates, cancels and displays: the job worker (core.jobs.worker, started here on
first use) starts queued runs and evaluations and notices crashed ones, page open or not.
"""
from __future__ import annotations

import streamlit as st

from core.auth import AccessDenied, Role
from core.jobs import store as jobs
from core.jobs.preflight import check_launch
from core.jobs.status import CANCELLABLE, RESUMABLE, RunStatus
from core.splits import split_dataset
from core.store.db import write_session
from core.store.models import Job
from ui.auth import can, identity
from ui.clip_training import clip_count, clip_train_form_ui
from ui.data import stats
from ui.label_modes import schema_of
from ui.state import dataset_ui
from ui.text import md
from ui.training import (
    counts_ui,
    curves_figure,
    eval_message,
    label_counts,
    run_row,
    ssl_form_ui,
    ssl_row,
    status_text,
    train_form_ui,
    worker_ui,
)

st.session_state["page"] = "train"
ds = dataset_ui()
if ds is None:
    st.stop()
st.title(f"Train · {md(ds['name'])}")
worker_ui()
splits = stats(ds["id"])["by_split"]
if "train" not in splits:
    st.warning("This dataset has no train/val/test split yet.")
    if st.button("Split it 70/15/15 by subject", key="make_split"):
        with write_session() as s, s.begin():
            split_dataset(s, ds["id"], "70/15/15")
        st.cache_data.clear()
        st.rerun()
counts = label_counts(ds["id"])
counts_ui(counts)

config = train_form_ui(ds["name"], schema_of(ds))
if config is not None:
    check = check_launch(counts, train_split=config.train_split, val_split=config.val_split,
                         tasks=config.tasks)
    for msg in check["errors"]:
        st.error(f"Not launched: {msg}")
    if not check["errors"]:
        try:
            run_id = jobs.create_run(config, identity=identity())
        except AccessDenied as exc:
            st.error(f"Not launched: {exc}")
        else:
            st.session_state["run_pick"] = run_id  # follow the new run
            st.session_state["launch_warnings"] = check["warnings"]
            st.toast(f"Run {run_id} queued")
for msg in st.session_state.get("launch_warnings", []):
    st.warning(msg)

with st.expander("Semi-supervised (SSL) stage: pretrain, classify, finetune"):
    st.caption("Split the dataset 70/30, then 70/20/10 (`affectlab split`); each stage runs as a "
               "background job like a training run.")
    ssl_jobs = jobs.list_jobs(kind="ssl")
    ssl_args = ssl_form_ui(ds["name"], ssl_jobs)
    if ssl_args is not None:
        try:
            job_id = jobs.submit_job("ssl", args=ssl_args, identity=identity())
        except (AccessDenied, ValueError, LookupError) as exc:
            st.error(f"Not queued: {exc}")
        else:
            st.toast(f"SSL job {job_id} queued")
            ssl_jobs = jobs.list_jobs(kind="ssl")
    if ssl_jobs:
        st.dataframe([ssl_row(j) for j in ssl_jobs], hide_index=True, width="stretch", key="ssl_table")
        with st.expander(f"Log of SSL job {ssl_jobs[0]['id']}"):
            st.code(jobs.tail_log(ssl_jobs[0]["id"], 30, table=Job) or "(empty)")

if n_clips := clip_count(ds["id"]):
    with st.expander(f"Clip model ({n_clips} video clips in this dataset)"):
        clip_config = clip_train_form_ui(ds["name"])
        if clip_config is not None:
            try:
                run_id = jobs.create_run(clip_config, identity=identity())
            except AccessDenied as exc:
                st.error(f"Not launched: {exc}")
            else:
                st.session_state["run_pick"] = run_id
                st.toast(f"Clip run {run_id} queued")


@st.fragment(run_every=2)
def live_runs() -> None:
    runs = jobs.list_runs(limit=50)
    if not runs:
        st.info("No training runs yet.")
        return
    st.dataframe([run_row(r) for r in runs], hide_index=True, width="stretch", key="runs_table")
    ids = [r["id"] for r in runs]
    if st.session_state.get("run_pick") not in ids:
        st.session_state["run_pick"] = ids[0]
    run_id = st.selectbox("Run", ids, key="run_pick")
    run = next(r for r in runs if r["id"] == run_id)
    p = run["progress"] or {}
    total = max(1, p.get("total_steps") or 1)
    done = run["status"] == RunStatus.SUCCEEDED
    st.progress(1.0 if done else min(1.0, (p.get("global_step") or 0) / total),
                text=f"run {run['id']} · {status_text(run)}")
    c1, c2 = st.columns(2)
    admin = can(Role.ADMIN)  # core refuses the others anyway
    if c1.button("Cancel", key=f"cancel-{run_id}", disabled=not admin or run["status"] not in CANCELLABLE):
        jobs.cancel(run_id, identity=identity())
        st.rerun()
    if c2.button("Resume", key=f"resume-{run_id}", disabled=not admin or run["status"] not in RESUMABLE):
        jobs.resume(run_id, identity=identity())
        st.rerun()
    if done:
        evaluate_ui(run_id)
    history = (run["metrics"] or {}).get("history") or []
    if history:
        cols = st.columns(3)
        for col, (metric, title) in zip(cols, [("train_loss", "training loss"), ("macro_f1", "val macro-F1"),
                                               ("ccc_va", "val CCC (mean V/A)")]):
            col.plotly_chart(curves_figure({run_id: history}, metric, title), key=f"curve-{metric}")
    with st.expander("Log"):
        st.code(jobs.tail_log(run_id, 30) or "(empty)")


def evaluate_ui(run_id: int) -> None:
    """Queue an evaluation job for Review and show the newest one's state."""
    c1, c2 = st.columns([1, 3])
    split = c1.selectbox("Evaluate on", ["test", "val", "train"], key=f"eval-split-{run_id}")
    if c2.button("Evaluate and store predictions for Review", key=f"eval-{run_id}", disabled=not can(Role.ADMIN)):
        jobs.submit_job("evaluate", run_id=run_id, args={"split": split}, identity=identity())
    latest = jobs.list_jobs(run_id=run_id, kind="evaluate", limit=1)
    if latest:
        kind, text = eval_message(latest[0])
        getattr(st, kind)(text)


live_runs()

st.subheader("Compare two runs")
done_runs = jobs.list_runs(limit=50, with_metrics=True)
if len(done_runs) >= 2:
    pick = st.multiselect("Runs", [r["id"] for r in done_runs], default=[r["id"] for r in done_runs[:2]],
                          max_selections=2, key="compare")
    chosen = [r for r in done_runs if r["id"] in pick]
    table = []
    for r in chosen:
        best = r["metrics"].get("best") or {}
        val = best.get("val") or {}
        table.append({"run": r["id"], "backbone": (r["config"] or {}).get("backbone"),
                      "epochs": len(r["metrics"].get("history", [])), "best epoch": best.get("epoch"),
                      "score": best.get("score"), "stopped early": r["stop_reason"] or "",
                      **{k: val.get(k) for k in ("accuracy", "macro_f1", "ccc_valence", "ccc_arousal",
                                                 "stress_auroc")}})
    st.dataframe(table, hide_index=True, width="stretch")
    histories = {r["id"]: r["metrics"].get("history", []) for r in chosen}
    cols = st.columns(2)
    cols[0].plotly_chart(curves_figure(histories, "train_loss", "training loss"), key="cmp-loss")
    cols[1].plotly_chart(curves_figure(histories, "combined", "val combined score"), key="cmp-score")
else:
    st.caption("Two finished runs are needed for a comparison.")
