"""Masked multi-task losses (emotion CE / multi-label BCE / KL, V/A/D CCC+MSE, stress BCE, named
targets MSE/CCC) and task weighting.

Every loss ignores the samples whose label for its task is missing (emotion code -1, a NaN
multi-label or distribution row; NaN V/A/D, stress or target) and is exactly 0, with zero gradients, when a batch has
no label for it, so datasets with partial labels train together. No loss syncs with the GPU.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.train_config import DEFAULT_TASK_WEIGHTS

EPS = 1e-8
# Kendall et al. 2018: L = c / sigma^2 * L_t + log sigma, with c = 1 for classification-like and
# 1/2 for regression tasks; we learn s = log sigma^2, so the term is c * exp(-s) * L_t + s / 2.
UNCERTAINTY_SCALE = {"emotion": 1.0, "va": 0.5, "stress": 1.0, "dominance": 0.5, "targets": 0.5}


def masked_cross_entropy(logits: Tensor, target: Tensor, *, weight: Tensor | None = None,
                         label_smoothing: float = 0.0) -> tuple[Tensor, Tensor]:
    """(loss, number labelled) for class codes (B,), -1 = missing; the weighted mean over the
    labelled samples exactly as F.cross_entropy(reduction="mean") on them alone."""
    mask = target >= 0
    safe = torch.where(mask, target, torch.zeros_like(target))
    per = F.cross_entropy(logits, safe, weight=weight, label_smoothing=label_smoothing,
                          reduction="none")
    w = mask.to(per.dtype) if weight is None else weight[safe] * mask
    return (per * mask).sum() / w.sum().clamp_min(EPS), mask.sum()


def soft_kl(logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(KL(target || softmax(logits)) averaged over labelled rows, number labelled) for
    target distributions (B, K); a row with any NaN is missing."""
    mask = torch.isfinite(target).all(dim=1)
    safe = torch.where(mask[:, None], target, torch.full_like(target, 1.0 / target.shape[1]))
    log_q = F.log_softmax(logits.float(), dim=1)
    per = (torch.xlogy(safe, safe) - safe * log_q).sum(dim=1)
    return (per * mask).sum() / mask.sum().clamp_min(1), mask.sum()


def multilabel_bce(logits: Tensor, target: Tensor, *, pos_weight: Tensor | None = None
                   ) -> tuple[Tensor, Tensor]:
    """(binary cross-entropy per class averaged over labelled rows and classes, number labelled)
    for multi-hot targets (B, K); a row with any NaN is missing. pos_weight (K,) weighs each
    class's positives (BCEWithLogits' pos_weight, e.g. negatives / positives)."""
    mask = torch.isfinite(target).all(dim=1)
    safe = torch.where(mask[:, None], target, torch.zeros_like(target)).float()
    per = F.binary_cross_entropy_with_logits(logits.float(), safe, pos_weight=pos_weight,
                                             reduction="none").mean(dim=1)
    return (per * mask).sum() / mask.sum().clamp_min(1), mask.sum()


def ccc_loss(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(mean over columns of 1 - CCC, number of columns with >= 2 labels) for (B, D) values;
    each column uses only its labelled rows and a column with fewer than 2 labels adds 0."""
    pred, target = pred.reshape(pred.shape[0], -1).float(), target.reshape(target.shape[0], -1)
    mask = torch.isfinite(target)
    m = mask.to(pred.dtype)
    t = torch.where(mask, target, torch.zeros_like(target)).to(pred.dtype)
    n = m.sum(0).clamp_min(1)
    mt, mp = (t * m).sum(0) / n, (pred * m).sum(0) / n
    dt, dp = (t - mt) * m, (pred - mp) * m
    vt, vp, cov = (dt**2).sum(0) / n, (dp**2).sum(0) / n, (dt * dp).sum(0) / n
    ccc = 2 * cov / (vt + vp + (mt - mp) ** 2 + EPS)
    valid = (m.sum(0) >= 2).to(pred.dtype)
    return ((1 - ccc) * valid).sum() / valid.sum().clamp_min(1), valid.sum()


def masked_mse(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(mean squared error over the labelled entries, number labelled); NaN = missing."""
    pred = pred.reshape(target.shape).float()
    mask = torch.isfinite(target)
    diff = torch.where(mask, pred - target, torch.zeros_like(pred))
    return (diff**2).sum() / mask.sum().clamp_min(1), mask.sum()


def masked_bce(prob: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(binary cross-entropy of probabilities vs soft/hard targets in [0, 1], number labelled);
    NaN or negative target = missing. Computed from the logit, so it is AMP-safe."""
    prob, target = prob.reshape(-1).float(), target.reshape(-1).float()
    mask = torch.isfinite(target) & (target >= 0)
    safe = torch.where(mask, target, torch.zeros_like(target))
    logit = torch.logit(prob.clamp(1e-6, 1 - 1e-6))
    per = F.binary_cross_entropy_with_logits(logit, safe, reduction="none")
    return (per * mask).sum() / mask.sum().clamp_min(1), mask.sum()


def _regression(pred: Tensor, target: Tensor, kind: str) -> tuple[Tensor, Tensor]:
    """1 - CCC, MSE or their sum (kind ccc | mse | both), with ccc_loss's count."""
    parts = []
    if kind in ("ccc", "both"):
        parts.append(ccc_loss(pred, target))
    if kind in ("mse", "both"):
        parts.append(masked_mse(pred, target))
    return sum(p[0] for p in parts), parts[0][1]


class MultiTaskLoss(nn.Module):
    """forward(outputs, targets) -> (total, {task: loss}); fixed task weights, or learned
    log-variances (uncertainty weighting; its parameters must go to the optimiser)."""

    def __init__(self, *, tasks: list[str] | tuple[str, ...] = ("emotion", "va", "stress"),
                 task_weights: dict[str, float] | None = None, uncertainty: bool = False,
                 va_loss: str = "ccc", class_weights: Tensor | None = None,
                 label_smoothing: float = 0.0, emotion_mode: str = "single",
                 pos_weight: Tensor | None = None, target_loss: str = "mse",
                 target_ranges: dict[str, list[float]] | None = None):
        super().__init__()
        self.tasks = list(tasks)
        self.task_weights = DEFAULT_TASK_WEIGHTS | dict(task_weights or {})
        self.va_loss, self.target_loss = va_loss, target_loss
        self.label_smoothing = label_smoothing
        self.emotion_mode = emotion_mode
        self.target_ranges = dict(target_ranges or {})  # name -> [low, high], in target column order
        self.register_buffer("class_weights", class_weights, persistent=False)
        self.register_buffer("pos_weight", pos_weight, persistent=False)
        self.log_vars = nn.ParameterDict(
            {t: nn.Parameter(torch.zeros(())) for t in self.tasks}) if uncertainty else None

    def task_losses(self, outputs: dict[str, Tensor], targets: dict[str, Tensor]
                    ) -> dict[str, tuple[Tensor, Tensor]]:
        """{task: (loss, how many labels)} for the enabled tasks present in targets."""
        out: dict[str, tuple[Tensor, Tensor]] = {}
        if "emotion" in self.tasks and "emotion" in targets:
            y, logits = targets["emotion"], outputs["emotion"].float()
            if self.emotion_mode == "multi":
                out["emotion"] = multilabel_bce(logits, y, pos_weight=self.pos_weight)
            elif y.is_floating_point() and y.ndim == 2:
                out["emotion"] = soft_kl(logits, y)
            else:
                out["emotion"] = masked_cross_entropy(logits, y, weight=self.class_weights,
                                                      label_smoothing=self.label_smoothing)
        for task in ("va", "dominance"):
            if task in self.tasks and task in targets and task in outputs:
                out[task] = _regression(outputs[task], targets[task], self.va_loss)
        if "stress" in self.tasks and "stress" in targets:
            out["stress"] = masked_bce(outputs["stress"], targets["stress"])
        if "targets" in self.tasks and "targets" in targets and self.target_ranges:
            names = list(self.target_ranges)
            low = targets["targets"].new_tensor([self.target_ranges[n][0] for n in names])
            span = targets["targets"].new_tensor([self.target_ranges[n][1] - self.target_ranges[n][0]
                                                  for n in names])
            pred = torch.cat([outputs[n].float().reshape(-1, 1) for n in names], dim=1)
            # on each range scaled to [0, 1], so a -3..3 target weighs like a 0..1 trait
            out["targets"] = _regression((pred - low) / span, (targets["targets"] - low) / span,
                                         self.target_loss)
        return out

    def forward(self, outputs: dict[str, Tensor], targets: dict[str, Tensor]
                ) -> tuple[Tensor, dict[str, Tensor]]:
        losses = self.task_losses(outputs, targets)
        # every head joins the graph (zero gradient), so DDP sees no unused parameters and a
        # batch without any label still backpropagates
        total = sum(v.float().sum() for v in outputs.values()) * 0.0
        for task, (loss, count) in losses.items():
            if self.log_vars is None:
                total = total + self.task_weights[task] * loss
            else:
                s = self.log_vars[task]
                present = (count > 0).to(loss.dtype)  # no label: neither loss nor regulariser
                total = total + present * (UNCERTAINTY_SCALE[task] * torch.exp(-s) * loss + 0.5 * s)
        return total, {t: v[0].detach() for t, v in losses.items()}

    def weights(self) -> dict[str, float]:
        """The current effective weight of each task (for logging)."""
        if self.log_vars is None:
            return {t: float(self.task_weights[t]) for t in self.tasks}
        return {t: float(UNCERTAINTY_SCALE[t] * torch.exp(-s.detach())) for t, s in self.log_vars.items()}
