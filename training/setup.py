"""What a run is built from: split rows, data loaders, loss, optimiser, scheduler, AMP."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader

from core.config import get_settings
from core.label_schema import LabelSchema
from core.model.config import ModelConfig
from core.store.datasets import dataset_schema, require_dataset
from core.store.db import read_session
from core.train_config import TrainConfig
from training.augment import Augment
from training.data import (
    AffectDataset,
    EpochSampler,
    SplitRows,
    balanced_sample_weights,
    inverse_frequency,
    load_rows,
    missing_files,
)
from training.dist import DistContext
from training.losses import MultiTaskLoss


@dataclass
class RunData:
    classes: list[str]
    train: SplitRows
    val: SplitRows | None
    schema: LabelSchema | None = field(default=None, kw_only=True)  # None: single-label over classes


def load_data(cfg: TrainConfig) -> RunData:
    """The dataset's classes and the rows of its train and val splits (checked non-empty)."""
    with read_session() as s:
        ds = require_dataset(s, cfg.dataset)
        schema = dataset_schema(ds)  # single-label over the taxonomy for older datasets
        classes = list(schema.classes)
        kw = {"max_samples": cfg.max_samples, "seed": cfg.seed, "schema": schema,
              "snapshot": cfg.snapshot or None}  # the labels frozen when the run was queued
        train = load_rows(s, ds.id, cfg.train_split, classes, **kw)
        val = load_rows(s, ds.id, cfg.val_split, classes, **kw) if cfg.val_split else None
    if len(train) == 0:
        raise ValueError(f"dataset {cfg.dataset!r} has no samples in split {cfg.train_split!r}; "
                         f"split it first (python -m core split --dataset {cfg.dataset})")
    labelled = train.labelled()
    if not any(labelled.get(t) for t in cfg.tasks):
        raise ValueError(f"the {cfg.train_split} split has no labels for the tasks {cfg.tasks}")
    data_dir = get_settings().data_dir
    for rows in (train, val):
        missing = missing_files(rows, data_dir) if rows is not None else []
        if missing:
            raise FileNotFoundError(f"crops missing under {data_dir}: {', '.join(missing)}")
    return RunData(classes, train, val if val is not None and len(val) else None, schema=schema)


def make_loaders(cfg: TrainConfig, data: RunData, mc: ModelConfig, ctx: DistContext
                 ) -> tuple[DataLoader, DataLoader | None, torch.Generator]:
    """Train loader (augmented, seeded per epoch, sharded over ranks) and, on rank 0, the val
    loader; plus the generator to reseed each epoch (it seeds worker processes)."""
    data_dir = get_settings().data_dir
    aug = Augment(hflip=cfg.hflip, rotate=cfg.rotate, color=cfg.color, crop=cfg.crop)
    train_ds = AffectDataset(data.train, data_dir, mc, augment=aug, seed=cfg.seed)
    weights = (balanced_sample_weights(data.train.emotion, len(data.classes))
               if cfg.class_balanced else None)
    sampler = EpochSampler(len(train_ds), seed=cfg.seed, weights=weights, rank=ctx.rank,
                           world_size=ctx.world_size)
    gen = torch.Generator()
    common = {"num_workers": cfg.num_workers, "pin_memory": ctx.device.type == "cuda",
              "generator": gen}
    train = DataLoader(train_ds, batch_size=cfg.batch_size, sampler=sampler,
                       drop_last=len(sampler) > cfg.batch_size, **common)
    val = None
    if data.val is not None and ctx.is_main:
        val_ds = AffectDataset(data.val, data_dir, mc, augment=None, seed=cfg.seed)
        val = DataLoader(val_ds, batch_size=cfg.batch_size * 2, shuffle=False, **common)
    return train, val, gen


def make_loss(cfg: TrainConfig, data: RunData, device: torch.device) -> MultiTaskLoss:
    cw = cfg.class_weights
    if cw == "balanced":
        cw = inverse_frequency(data.train.emotion, len(data.classes)).tolist()
    if cw is not None and len(cw) != len(data.classes):
        raise ValueError(f"class_weights has {len(cw)} values for {len(data.classes)} classes")
    weight = torch.tensor(cw, dtype=torch.float32) if cw is not None else None
    schema = data.schema or LabelSchema(classes=tuple(data.classes))
    pos = positive_weights(data.train.emotions) if cfg.pos_weight and data.train.emotions is not None else None
    return MultiTaskLoss(tasks=cfg.tasks, task_weights=cfg.task_weights,
                         uncertainty=cfg.uncertainty_weighting, va_loss=cfg.va_loss,
                         class_weights=weight, label_smoothing=cfg.label_smoothing,
                         emotion_mode=schema.emotion_mode, target_loss=cfg.target_loss,
                         pos_weight=None if pos is None else torch.tensor(pos, dtype=torch.float32),
                         target_ranges={t.name: [t.low, t.high] for t in schema.targets}).to(device)


def positive_weights(multi_hot: np.ndarray, cap: float = 100.0) -> np.ndarray:
    """Per-class BCE positive weight negatives / positives over the labelled rows (capped; 1 for
    a class without positives or negatives)."""
    known = np.isfinite(multi_hot).all(axis=1)
    y = multi_hot[known]
    pos, neg = y.sum(axis=0), (1 - y).sum(axis=0)
    return np.where((pos > 0) & (neg > 0), np.minimum(neg / np.maximum(pos, 1), cap), 1.0)


def make_optimizer(cfg: TrainConfig, model: torch.nn.Module, loss: MultiTaskLoss
                   ) -> torch.optim.Optimizer:
    groups = [{"params": list(model.parameters()), "weight_decay": cfg.weight_decay}]
    if list(loss.parameters()):
        groups.append({"params": list(loss.parameters()), "weight_decay": 0.0})
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(groups, lr=cfg.lr)


def make_scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer):
    """cosine: per epoch over cfg.epochs; plateau: halves the lr when the val score stalls."""
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="max", factor=0.5, patience=max(1, cfg.patience // 2))
    return None


def amp_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    """bf16 where the GPU has it, else fp16 (with a GradScaler); None on CPU or amp off."""
    if not cfg.amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
