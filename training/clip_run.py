"""Clip training runs: a Run row whose config has kind "clip" (queued like an image run, started by
the worker as `python -m core train --run-id N`) trains a clip model over a dataset's stored clips
(training.clip_data.store_clip_data), evaluates it per modality (visual only / audio only / fused)
on the held-out clips and records the history, metrics and checkpoint on the row, and stores one
prediction per clip (training.clip_eval) for Review."""
from __future__ import annotations

import traceback
from typing import Any

import numpy as np

from core.clips.run_config import MODEL_KINDS, clip_run_config, is_clip_run  # noqa: F401 - re-exported
from core.jobs import store
from core.jobs.status import RunStatus
from core.store.models import Run
from training.clip_eval import HOLDOUT_EVERY, evaluate_stored_clips, holdout  # noqa: F401 - re-exported


def _members(run_ids: list[int]) -> list[Any]:
    from core.model.clip_checkpoint import load_member
    from training.runs import get_run

    out = []
    for rid in run_ids:
        path = get_run(int(rid))["checkpoint_path"]
        if not path:
            raise ValueError(f"fusion member run {rid} has no checkpoint (not finished?)")
        out.append(load_member(path))
    return out


def run_clip_training(run_id: int) -> dict[str, Any]:
    """Train run_id's clip model to the end; {"run_id", "status", "metrics", "checkpoint"}."""
    from training.runs import finish, get_run

    config = dict(get_run(run_id)["config"] or {})
    if store.mark_started(Run, run_id) == RunStatus.CANCELLING:
        finish(run_id, RunStatus.CANCELLED)
        return {"run_id": run_id, "status": RunStatus.CANCELLED}
    try:
        metrics, checkpoint = _train(run_id, config)
    except Exception as exc:
        finish(run_id, RunStatus.FAILED, error=f"{exc}\n{traceback.format_exc()[-3000:]}")
        return {"run_id": run_id, "status": RunStatus.FAILED, "error": str(exc)}
    finish(run_id, RunStatus.SUCCEEDED, progress={"epoch": config["epochs"], "epochs": config["epochs"]})
    return {"run_id": run_id, "status": RunStatus.SUCCEEDED, "metrics": metrics, "checkpoint": checkpoint}


def _train(run_id: int, config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    from core.audio import AudioParams
    from core.model.clip_checkpoint import build_clip_model
    from core.model.clip_config import AV_KINDS, ClipConfig
    from core.model.fusion import fusion_from_members
    from training.clip_data import store_clip_data
    from training.clip_train import ClipTrainOptions, evaluate_modalities, train_clip_model
    from training.loop import run_dir
    from training.runs import heartbeat, write_metrics

    kind = MODEL_KINDS[config["model_kind"]]
    audio = kind in AV_KINDS
    data = store_clip_data(config["dataset"], model=config.get("embedding"), tasks=config.get("tasks"),
                           audio=audio, snapshot=config.get("snapshot") or None)  # frozen when queued
    held = holdout(data.subjects, data.splits)
    train_idx, test_idx = np.flatnonzero(~held), np.flatnonzero(held)
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise ValueError(f"dataset {config['dataset']} has {len(data.sample_ids)} clip(s): too few to hold some out")
    train, test = data.data.subset(train_idx), data.data.subset(test_idx)
    frames = data.data.mask.shape[1]
    if kind == "fusion":
        model = fusion_from_members(*_members(config["members"]), schema=data.schema, tasks=data.tasks)
    else:
        params = AudioParams(width=int(data.data.audio.shape[2])) if audio and data.data.audio is not None else None
        model = build_clip_model(ClipConfig(
            kind=kind, schema=data.schema.to_dict(), tasks=data.tasks, frames=frames,
            input_dim=int(data.data.frames.shape[2]) if data.data.frames is not None else 1,
            audio=params.to_dict() if audio else None, sampling=_sampling(config["dataset"]),
            embedder=data.model or "", source=f"run {run_id}"))
    epochs = int(config["epochs"])

    def progress(row: dict[str, Any]) -> None:
        heartbeat(run_id, {"epoch": row["epoch"], "epochs": epochs, "loss": row["loss"]})

    out = run_dir(run_id) / "clip_model.pt"
    out.parent.mkdir(parents=True, exist_ok=True)
    opts = ClipTrainOptions(epochs=epochs, batch_size=int(config["batch_size"]), lr=float(config["lr"]),
                            seed=int(config.get("seed", 0)))
    model, history = train_clip_model(model, train, None, options=opts, out=out, progress=progress)
    modalities = evaluate_modalities(model, test)
    metrics = {"history": [{k: v for k, v in h.items() if k != "val"} for h in history],
               "clip": {"kind": kind, "model_kind": config["model_kind"], "train_clips": len(train_idx),
                        "test_clips": len(test_idx), "embedding": data.model, "tasks": data.tasks},
               "modalities": modalities, "best": modalities.get("fused") or next(iter(modalities.values()))}
    write_metrics(run_id, metrics, str(out))
    evaluate_stored_clips(run_id, model, data, held)  # per-clip, per-modality predictions for Review
    return metrics, str(out)


def _sampling(dataset: str) -> dict[str, Any] | None:
    """The sampling rule of the dataset's first clip (predict samples windows the same way)."""
    from core.store.clips import iter_clips
    from core.store.datasets import require_dataset
    from core.store.db import read_session

    with read_session() as s:
        for clip in iter_clips(s, require_dataset(s, dataset).id):
            return dict(clip.rule or {}) or None
    return None
