"""Train page widgets for clip models: how many clips a dataset has and the clip-run form."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.clips.run_config import MODEL_KINDS, clip_run_config

MODEL_LABELS = {"temporal": "temporal transformer", "mean-baseline": "mean pooling + MLP (baseline)",
                "audio-visual": "audio-visual (cross-attention)", "audio-visual-concat": "audio-visual (late concat)",
                "audio": "audio only", "fusion": "fusion of two finished clip runs"}
VISUAL = ("transformer", "mean_mlp")


def clip_count(dataset_id: int) -> int:
    from core.store.clips import count_clips
    from core.store.db import read_session

    with read_session() as s:
        return count_clips(s, dataset_id)


def fusion_members(dataset: str) -> list[tuple[int, str]]:
    """(run id, label) of the succeeded temporal / baseline clip runs on the dataset."""
    from core.jobs.status import RunStatus
    from core.jobs.store import list_runs

    return [(r["id"], f"run {r['id']}: {r['name']}") for r in list_runs(limit=200)
            if r["status"] == RunStatus.SUCCEEDED and (r["config"] or {}).get("kind") == "clip"
            and r["config"].get("dataset") == dataset and MODEL_KINDS.get(r["config"].get("model_kind")) in VISUAL]


def clip_train_form_ui(dataset: str) -> dict[str, Any] | None:
    """Choose a clip model, epochs and batch size (fusion: two finished runs); the clip run's
    config when "Queue clip run" was pressed (a wrong choice is shown, None returned)."""
    c1, c2, c3 = st.columns([2, 1, 1])
    kind = c1.selectbox("Clip model", list(MODEL_KINDS), format_func=MODEL_LABELS.get, key="clip_kind")
    epochs = c2.number_input("Epochs", 1, 1000, 30, key="clip_epochs")
    batch = c3.number_input("Batch size", 1, 1024, 32, key="clip_batch")
    members: list[int] = []
    if kind == "fusion":
        choices = fusion_members(dataset)
        labels = dict(choices)
        members = st.multiselect("Members (two finished clip runs, frozen)", list(labels),
                                 format_func=labels.get, max_selections=2, key="clip_members")
    st.caption("Clip runs read the clips' stored frame embeddings (`affectlab embed --dataset "
               f"{dataset}`); audio-visual models also their audio images. Evaluation reports visual "
               "only, audio only and fused metrics.")
    if not st.button("Queue clip run", key="clip_queue"):
        return None
    try:
        return clip_run_config(dataset, kind, epochs=int(epochs), batch_size=int(batch), members=members)
    except ValueError as exc:
        st.error(f"Not queued: {exc}")
        return None
