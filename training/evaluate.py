"""Validation pass: model outputs over a loader -> val loss and core.metrics.evaluate_predictions."""
from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from core.metrics import evaluate_predictions
from core.model.prior import apply_prior
from training.losses import MultiTaskLoss

SUMMARY = ("accuracy", "macro_f1", "ccc_valence", "ccc_arousal", "ccc_va", "stress_auroc",
           "stress_f1", "combined")


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
    AffectNet.predict), i.e. emotion probabilities per config.multi_label and the prior in place
    of untrained V/A or stress heads (core.model.prior.apply_prior)."""
    net = getattr(model, "module", model)  # under DDP, the wrapped AffectNet
    was_training = model.training
    model.eval()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                          ("probs", "va", "stress", "y_emotion", "y_va", "y_stress")}
    losses = []
    for batch in loader:
        x = batch["x"].to(device, non_blocking=True)
        with autocast(device, amp_dtype):
            out = model(x)
        if loss_fn is not None:
            targets = {k: batch[k].to(device) for k in ("emotion", "va", "stress")}
            losses.append(loss_fn(out, targets)[0].float())
        probs = net.emotion_probs(out["emotion"].float())  # softmax, or sigmoids when multi_label
        va, stress = apply_prior(probs, out["va"].float(), out["stress"].float().reshape(-1),
                                 trained=net.config, classes=net.config.classes)
        parts["probs"].append(probs.cpu().numpy())
        parts["va"].append(va.cpu().numpy())
        parts["stress"].append(stress.cpu().numpy())
        parts["y_emotion"].append(batch["emotion"].numpy())
        parts["y_va"].append(batch["va"].numpy())
        parts["y_stress"].append(batch["stress"].reshape(-1).numpy())
    model.train(was_training)
    result: dict[str, np.ndarray | float] = {k: np.concatenate(v) for k, v in parts.items() if v}
    result["loss"] = float(torch.stack(losses).mean()) if losses else float("nan")
    return result


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device, classes: list[str], *,
             amp_dtype: torch.dtype | None = None, loss_fn: MultiTaskLoss | None = None) -> dict:
    """evaluate_predictions on the loader's samples, plus "loss" (mean batch loss)."""
    c = collect(model, loader, device, amp_dtype, loss_fn)
    if "probs" not in c:
        return {"loss": None}
    metrics = evaluate_predictions(
        emotion_true=c["y_emotion"], emotion_pred=c["probs"], classes=classes,
        valence_true=c["y_va"][:, 0], valence_pred=c["va"][:, 0],
        arousal_true=c["y_va"][:, 1], arousal_pred=c["va"][:, 1],
        stress_true=c["y_stress"], stress_pred=c["stress"])
    loss = c["loss"]
    metrics["loss"] = loss if np.isfinite(loss) else None
    return metrics


def summary(metrics: dict | None) -> dict:
    """The scalar metrics of an evaluate() result (for the per-epoch history)."""
    if not metrics:
        return {}
    return {k: metrics.get(k) for k in (*SUMMARY, "loss")}
