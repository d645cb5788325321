"""evaluate_run(): a run's best checkpoint over one split -> metrics, per-sample losses, Prediction rows."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from core.catalog import run_checkpoint
from core.config import get_settings
from core.inference.prediction import head_flags, postprocess
from core.metrics import evaluate_predictions
from core.model.checkpoint import load_checkpoint
from core.model.net import AffectNet
from core.store.datasets import require_dataset
from core.store.db import read_session, write_session
from core.store.models import Run, utcnow
from core.store.predictions import record_predictions
from core.train_config import TrainConfig
from training.data import AffectDataset, SplitRows, load_rows, missing_files
from training.dist import resolve_device
from training.losses import UNCERTAINTY_SCALE
from training.runs import get_run
from training.state import load_state

EPS = 1e-6  # stress probabilities are clamped to [EPS, 1 - EPS] for the BCE, as in training


def task_weights(cfg: TrainConfig, run_dir: Path) -> dict[str, float]:
    """Training's weight of each task: the fixed task_weights or, with uncertainty weighting,
    c * exp(-log_var) from the run's last saved state (fixed weights when it is gone)."""
    weights = {t: float(cfg.task_weights[t]) for t in cfg.tasks}
    state = run_dir / "state.pt"
    if cfg.uncertainty_weighting and state.is_file():
        loss_state = load_state(state).get("loss") or {}
        for t in cfg.tasks:
            s = loss_state.get(f"log_vars.{t}")
            if s is not None:
                weights[t] = UNCERTAINTY_SCALE[t] * math.exp(-float(s))
    return weights


@torch.no_grad()
def predict_rows(model: AffectNet, rows: SplitRows, data_dir: Path, device: torch.device, *,
                 batch_size: int) -> dict[str, np.ndarray]:
    """{"logits": (N, K), "probs": (N, K), "va": (N, 2), "stress": (N,)} for every row, with the
    prior in place of untrained V/A or stress heads (exactly what a Predictor reports)."""
    model.eval()
    ds = AffectDataset(rows, data_dir, model.config, augment=None)
    parts: dict[str, list[np.ndarray]] = {"logits": [], "probs": [], "va": [], "stress": []}
    for batch in DataLoader(ds, batch_size=batch_size, shuffle=False):
        raw = {k: v.float().cpu().numpy() for k, v in model(batch["x"].to(device)).items()}
        post = postprocess(raw, model.config)
        parts["logits"].append(raw["emotion"])
        for k in ("probs", "va", "stress"):
            parts[k].append(post[k])
    return {k: np.concatenate(v) for k, v in parts.items()}


def sample_losses(out: dict[str, np.ndarray], rows: SplitRows, weights: dict[str, float], *,
                  label_smoothing: float = 0.0) -> np.ndarray:
    """Per-sample training objective (NaN where a sample has no label of a trained task):
    sum over tasks of weight * term, with the terms cross-entropy (emotion), mean squared
    error over the labelled V/A columns (per sample, in place of the batch-level CCC) and
    binary cross-entropy (stress). Class weights are left out so samples stay comparable."""
    n = len(rows)
    total, any_term = np.zeros(n), np.zeros(n, bool)
    if "emotion" in weights:
        y = torch.from_numpy(rows.emotion)
        mask = (y >= 0).numpy()
        ce = F.cross_entropy(torch.from_numpy(out["logits"]).double(), y.clamp_min(0),
                             label_smoothing=label_smoothing, reduction="none").numpy()
        total += np.where(mask, weights["emotion"] * ce, 0.0)
        any_term |= mask
    if "va" in weights:
        known = np.isfinite(rows.va)
        sq = np.where(known, (out["va"] - np.nan_to_num(rows.va)) ** 2, 0.0)
        count = known.sum(1)
        mask = count > 0
        total += np.where(mask, weights["va"] * sq.sum(1) / np.maximum(count, 1), 0.0)
        any_term |= mask
    if "stress" in weights:
        t = rows.stress.astype(np.float64)
        mask = np.isfinite(t) & (t >= 0)
        p = np.clip(out["stress"], EPS, 1 - EPS)
        t = np.where(mask, t, 0.0)
        bce = -(t * np.log(p) + (1 - t) * np.log1p(-p))
        total += np.where(mask, weights["stress"] * bce, 0.0)
        any_term |= mask
    return np.where(any_term, total, np.nan)


def prediction_rows(run_id: int, split: str, rows: SplitRows, out: dict[str, np.ndarray],
                    losses: np.ndarray, classes: list[str], flags: dict[str, str]) -> list[dict]:
    """One record_predictions row per sample."""
    top = out["probs"].argmax(1)
    return [{"sample_id": int(sid), "run_id": run_id, "model_version": f"run-{run_id}",
             "split": split, "probs": {c: float(p) for c, p in zip(classes, out["probs"][i])},
             "emotion": classes[top[i]], "confidence": float(out["probs"][i, top[i]]),
             "valence": float(out["va"][i, 0]), "arousal": float(out["va"][i, 1]),
             "stress": float(out["stress"][i]),
             "loss": float(losses[i]) if np.isfinite(losses[i]) else None, "flags": dict(flags)}
            for i, sid in enumerate(rows.ids)]


def store_eval(run_id: int, split: str, summary: dict[str, Any], pred_rows: list[dict]) -> None:
    """Prediction rows and Run.metrics["eval"][split] in one transaction; other keys kept."""
    with write_session() as s, s.begin():
        record_predictions(s, pred_rows)
        run = s.get(Run, run_id)
        metrics = dict(run.metrics or {})
        metrics["eval"] = {**(metrics.get("eval") or {}), split: summary}
        run.metrics = metrics  # a new dict: the JSON column sees the change


def _load_split(run: dict[str, Any], cfg: TrainConfig, split: str, classes: list[str]) -> SplitRows:
    with read_session() as s:
        dataset_id = run["dataset_id"] or require_dataset(s, cfg.dataset).id
        rows = load_rows(s, dataset_id, split, classes)
    if len(rows) == 0:
        raise ValueError(f"run {run['id']}: dataset {cfg.dataset!r} has no samples in split {split!r}")
    missing = missing_files(rows, get_settings().data_dir)
    if missing:
        raise FileNotFoundError(f"crops missing under {get_settings().data_dir}: {', '.join(missing)}")
    return rows


def rows_labelled(rows: SplitRows) -> dict[str, int]:
    """How many samples carry each label."""
    return {"emotion": int((rows.emotion >= 0).sum()),
            "va": int(np.isfinite(rows.va).any(axis=1).sum()),
            "stress": int((np.isfinite(rows.stress) & (rows.stress >= 0)).sum())}


def evaluate_run(run_id: int, *, split: str = "test", store: bool = True, batch_size: int = 64,
                 device: str = "auto") -> dict[str, Any]:
    """Evaluate a run's best checkpoint on every sample of a split of its dataset.

    Returns core.metrics.evaluate_predictions (on what the model reports: the prior stands in
    for untrained heads) plus run_id, split, checkpoint, n, labelled counts, stored and
    sample_loss_mean. With store, one Prediction per sample (model_version "run-<id>", its
    per-sample loss, head flags) and the summary under Run.metrics["eval"][split].
    """
    run = get_run(run_id)
    cfg = TrainConfig.from_dict(run["config"] or {})
    checkpoint = run_checkpoint(run_id)
    dev = resolve_device(device)
    model, mconfig, meta = load_checkpoint(checkpoint, map_location=dev)
    classes = list(mconfig.classes)
    rows = _load_split(run, cfg, split, classes)
    out = predict_rows(model, rows, get_settings().data_dir, dev, batch_size=batch_size)
    losses = sample_losses(out, rows, task_weights(cfg, checkpoint.parent),
                           label_smoothing=cfg.label_smoothing)
    metrics = evaluate_predictions(
        emotion_true=rows.emotion, emotion_pred=out["probs"], classes=classes,
        valence_true=rows.va[:, 0], valence_pred=out["va"][:, 0],
        arousal_true=rows.va[:, 1], arousal_pred=out["va"][:, 1],
        stress_true=rows.stress, stress_pred=out["stress"])
    finite = losses[np.isfinite(losses)]
    summary = {**metrics, "run_id": run_id, "split": split, "checkpoint": str(checkpoint),
               "epoch": (meta.get("extra") or {}).get("epoch"), "n": len(rows),
               "labelled": rows_labelled(rows),
               "sample_loss_mean": float(finite.mean()) if finite.size else None,
               "flags": head_flags(mconfig), "evaluated_at": utcnow().isoformat(timespec="seconds")}
    stored = 0
    if store:
        pred_rows = prediction_rows(run_id, split, rows, out, losses, classes, head_flags(mconfig))
        store_eval(run_id, split, summary, pred_rows)
        stored = len(pred_rows)
    return {**summary, "stored": stored}
