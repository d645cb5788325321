"""Validation pass: model outputs over a loader -> val loss and core.metrics_modes.evaluate_heads."""
from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from core.metrics_modes import evaluate_heads, tune_thresholds
from core.model.prior import apply_prior
from training.data import LABEL_KEYS
from training.losses import MultiTaskLoss

SUMMARY = ("accuracy", "macro_f1", "ccc_valence", "ccc_arousal", "ccc_va", "stress_auroc",
           "stress_f1", "combined", "combined_name")
MODE_SUMMARY = ("micro_f1", "map", "kl", "top1_agreement", "ccc_dominance", "ccc_targets",
                "mae_targets", "one_minus_mae")


def autocast(device: torch.device, dtype: torch.dtype | None):
    """Mixed precision on CUDA when dtype is given; a no-op otherwise."""
    if dtype is None or device.type != "cuda":
        return nullcontext()
    return torch.autocast("cuda", dtype=dtype)


@torch.no_grad()
def collect(model: nn.Module, loader: DataLoader, device: torch.device,
            amp_dtype: torch.dtype | None = None, loss_fn: MultiTaskLoss | None = None
            ) -> dict[str, np.ndarray | float]:
    """Concatenated outputs and targets and mean loss: what the model reports (as
    AffectNet.predict), i.e. emotion probabilities per config.emotion_mode and the prior in
    place of untrained V/A or stress heads (core.model.prior.apply_prior); dominance and the
    named targets (N, T) when the model and the batches have them."""
    net = getattr(model, "module", model)  # under DDP, the wrapped AffectNet
    config = net.config
    was_training = model.training
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    losses = []

    def add(key: str, value: torch.Tensor | np.ndarray) -> None:
        parts.setdefault(key, []).append(value.cpu().numpy() if hasattr(value, "cpu") else value)

    for batch in loader:
        x = batch["x"].to(device, non_blocking=True)
        with autocast(device, amp_dtype):
            out = model(x)
        if loss_fn is not None:
            targets = {k: batch[k].to(device) for k in LABEL_KEYS if k in batch}
            losses.append(loss_fn(out, targets)[0].float())
        probs = net.emotion_probs(out["emotion"].float())  # softmax, or sigmoids when multi-label
        va, stress = apply_prior(probs, out["va"].float(), out["stress"].float().reshape(-1),
                                 trained=config, classes=config.classes)
        add("probs", probs)
        add("va", va)
        add("stress", stress)
        add("y_emotion", batch["emotion"])
        add("y_va", batch["va"])
        add("y_stress", batch["stress"].reshape(-1))
        if "dominance" in out and "dominance" in batch:
            add("dominance", out["dominance"].float().reshape(-1))
            add("y_dominance", batch["dominance"].reshape(-1))
        if config.named_targets and "targets" in batch:
            add("targets", torch.cat([out[t].float().reshape(-1, 1) for t in config.named_targets], 1))
            add("y_targets", batch["targets"])
    model.train(was_training)
    result: dict[str, np.ndarray | float] = {k: np.concatenate(v) for k, v in parts.items() if v}
    result["loss"] = float(torch.stack(losses).mean()) if losses else float("nan")
    return result


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device, classes: list[str], *,
             amp_dtype: torch.dtype | None = None, loss_fn: MultiTaskLoss | None = None) -> dict:
    """core.metrics_modes.evaluate_heads on the loader's samples (multi-label at the model's
    thresholds, plus "tuned_thresholds": the per-class ones that maximise F1 here), plus
    "loss" (mean batch loss)."""
    c = collect(model, loader, device, amp_dtype, loss_fn)
    if "probs" not in c:
        return {"loss": None}
    config = getattr(model, "module", model).config
    metrics = evaluate_heads(
        mode=config.emotion_mode, classes=classes, emotion_true=c["y_emotion"], emotion_pred=c["probs"],
        va_true=c["y_va"], va_pred=c["va"], stress_true=c["y_stress"], stress_pred=c["stress"],
        dominance_true=c.get("y_dominance"), dominance_pred=c.get("dominance"),
        targets_true=c.get("y_targets"), targets_pred=c.get("targets"),
        target_ranges={t: config.target_ranges[t] for t in config.named_targets},
        thresholds=config.class_thresholds())
    if config.emotion_mode == "multi" and metrics.get("emotions"):
        tuned = tune_thresholds(c["y_emotion"], c["probs"])
        metrics["tuned_thresholds"] = {k: float(v) for k, v in zip(classes, tuned)}
    loss = c["loss"]
    metrics["loss"] = loss if np.isfinite(loss) else None
    return metrics


def summary(metrics: dict | None) -> dict:
    """The scalar metrics of an evaluate() result (for the per-epoch history); the mode
    metrics only when the model has them."""
    if not metrics:
        return {}
    return {k: metrics.get(k) for k in (*SUMMARY, "loss")} | {
        k: metrics[k] for k in MODE_SUMMARY if k in metrics}
