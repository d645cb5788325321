"""Training and evaluation of clip models over stored per-frame embeddings and audio images.

Losses per task (training.losses, masked: a clip without a label for a task adds nothing):
single-label emotion cross-entropy, distribution KL, multi-label binary cross-entropy, V/A and
dominance 1 - CCC, stress BCE, named targets MSE. Audio-visual models train with modality
dropout (a clip's audio or frames hidden at random) so the per-modality ablation means something.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from core.label_schema import LabelSchema
from core.model.clip_checkpoint import save_clip_model
from core.model.clip_config import AV_KINDS, MODALITIES, ClipConfig
from training.clip_data import ClipData
from training.losses import ccc_loss, masked_bce, masked_cross_entropy, masked_mse, soft_kl


@dataclass
class ClipTrainOptions:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-2
    seed: int = 0
    device: str | None = None  # None: CUDA when present
    modality_dropout: float = 0.2  # audio-visual kinds: chance of hiding each modality per clip
    threads: int | None = None  # torch CPU threads while training (None: as set); restored after
    task_weights: dict[str, float] = field(default_factory=dict)  # default 1 each


def clip_task_losses(outputs: dict[str, Tensor], targets: dict[str, Tensor], schema: LabelSchema,
                     tasks: Sequence[str]) -> dict[str, tuple[Tensor, Tensor]]:
    """{task: (loss, number labelled)} for the tasks with targets in the batch."""
    out: dict[str, tuple[Tensor, Tensor]] = {}
    for task in tasks:
        if task not in targets:
            continue
        pred, y = outputs[task], targets[task]
        if task == "emotion":
            if schema.emotion_mode == "distribution":
                out[task] = soft_kl(pred, y)
            elif schema.emotion_mode == "multi":
                out[task] = masked_bce(torch.sigmoid(pred.float()), y)
            else:
                out[task] = masked_cross_entropy(pred, y)
        elif task in ("va", "dominance"):
            out[task] = ccc_loss(pred, y)
        elif task == "stress":
            out[task] = masked_bce(pred, y)
        else:
            out[task] = masked_mse(pred, y)
    return out


def forward(model: nn.Module, batch: dict[str, Tensor]) -> dict[str, Tensor]:
    """The model's outputs for a batch (frames and mask; audio too for audio-visual kinds)."""
    if model.config.has_audio:
        return model(batch["frames"], batch["mask"], batch["audio"], batch["audio_valid"])
    return model(batch["frames"], batch["mask"])


def _drop_modalities(batch: dict[str, Tensor], p: float, gen: torch.Generator) -> dict[str, Tensor]:
    """Hide the audio of some clips and the frames of others (never both of one clip)."""
    b = batch["mask"].shape[0]
    r = torch.rand(b, generator=gen).to(batch["mask"].device)
    hide_audio, hide_frames = r < p, (r >= p) & (r < 2 * p)
    return batch | {"audio_valid": batch["audio_valid"] & ~hide_audio[:, None],
                    "mask": batch["mask"] & ~hide_frames[:, None]}


def train_clip_model(model: nn.Module, train: ClipData, val: ClipData | None = None, *,
                     options: ClipTrainOptions | None = None, out: str | Path | None = None,
                     progress: Callable[[dict[str, Any]], None] | None = None
                     ) -> tuple[nn.Module, list[dict[str, Any]]]:
    """Train in place (AdamW over the trainable parameters); returns (model, per-epoch history).
    out: save the checkpoint there at the end, with the last validation metrics."""
    opts = options or ClipTrainOptions()
    before = torch.get_num_threads()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    try:
        history = _fit(model, train, val, opts, progress)
    finally:
        torch.set_num_threads(before)
    model.eval()
    if out is not None:
        save_clip_model(out, model.cpu(), metrics={"val": history[-1].get("val", {}) if history else {}},
                        extra={"epochs": opts.epochs, "train_clips": len(train)})
    return model, history


def _fit(model: nn.Module, train: ClipData, val: ClipData | None, opts: ClipTrainOptions,
         progress: Callable[[dict[str, Any]], None] | None) -> list[dict[str, Any]]:
    config: ClipConfig = model.config
    device = torch.device(opts.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(opts.seed)
    gen = torch.Generator().manual_seed(opts.seed)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=opts.lr, weight_decay=opts.weight_decay)
    schema, history = config.label_schema, []
    for epoch in range(1, opts.epochs + 1):
        model.train()
        start, seen, total = time.perf_counter(), 0, 0.0
        for batch in train.batches(opts.batch_size, shuffle=True, generator=gen, device=device):
            if config.kind in AV_KINDS and config.kind != "audio" and opts.modality_dropout > 0:
                batch = _drop_modalities(batch, opts.modality_dropout, gen)
            outputs = forward(model, batch)
            losses = clip_task_losses(outputs, batch["targets"], schema, config.tasks)
            loss = sum(v.float().sum() for v in outputs.values()) * 0.0
            for task, (value, _) in losses.items():
                loss = loss + opts.task_weights.get(task, 1.0) * value
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            seen += batch["mask"].shape[0]
            total += float(loss.detach()) * batch["mask"].shape[0]
        row = {"epoch": epoch, "loss": total / max(seen, 1),
               "clips_per_s": seen / max(time.perf_counter() - start, 1e-9)}
        if val is not None:
            row["val"] = evaluate_clips(model, val)
        history.append(row)
        if progress:
            progress(row)
    return history


@torch.no_grad()
def predict_clips(model: nn.Module, data: ClipData, *, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Raw head outputs for every clip, in order."""
    model.eval()
    device = next(model.parameters()).device
    parts: dict[str, list[np.ndarray]] = {}
    for batch in data.batches(batch_size, shuffle=False, device=device):
        for task, value in forward(model, batch).items():
            parts.setdefault(task, []).append(value.float().cpu().numpy())
    return {t: np.concatenate(v) for t, v in parts.items()}


def evaluate_clips(model: nn.Module, data: ClipData) -> dict[str, float]:
    """Per-task metrics on labelled clips (see training.clip_metrics.task_metrics)."""
    from training.clip_metrics import task_metrics

    return task_metrics(predict_clips(model, data), data.targets, model.config.label_schema,
                        model.config.tasks)


def evaluate_modalities(model: nn.Module, data: ClipData) -> dict[str, dict[str, float]]:
    """Audio-visual models: metrics with both modalities, visual only and audio only."""
    if not model.config.has_audio or model.config.kind == "audio":
        return {"fused": evaluate_clips(model, data)}
    out = {}
    try:
        for modality in MODALITIES:
            model.set_modality(modality)
            out[modality] = evaluate_clips(model, data)
    finally:
        model.set_modality("fused")
    return out
