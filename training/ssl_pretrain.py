"""Encoder pre-training loops without labels: masked-feature reconstruction for feature vectors
(features_mlp) and SimCLR (two augmented views, NT-Xent) for face crops (mini_xception)."""
from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from core.model.config import ModelConfig
from core.model.net import AffectNet
from core.model.preprocess import preprocess
from training.augment import Augment, apply
from training.data import EpochSampler
from training.ssl_objectives import MLPHead, masked_reconstruction_loss, nt_xent, random_mask

log = logging.getLogger(__name__)
# SimCLR views: stronger than the supervised defaults (its invariances are the whole signal)
SIMCLR_AUGMENT = Augment(hflip=True, rotate=15.0, color=0.4, crop=0.25)


def _optimiser(params: list[nn.Parameter], lr: float, weight_decay: float, total_steps: int
               ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total_steps, 1))


def pretrain_masked(model: AffectNet, x: np.ndarray, *, epochs: int, lr: float, batch_size: int,
                    mask_ratio: tuple[float, float] = (0.3, 0.5), hidden: int = 256,
                    weight_decay: float = 1e-4, seed: int = 0, device: str = "cpu") -> list[float]:
    """Train model.backbone (a FeaturesMLP) with an MLP decoder to reconstruct 30-50% masked
    dimensions of the raw vectors x (N, D); returns the mean loss of each epoch."""
    enc = model.backbone.to(device).train()
    dec = MLPHead(enc.feature_dim, hidden, enc.in_dim).to(device)
    data = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(device)
    g = torch.Generator().manual_seed(seed)
    steps = -(-len(data) // batch_size)
    opt, sched = _optimiser([*enc.parameters(), *dec.parameters()], lr, weight_decay, epochs * steps)
    history = []
    for epoch in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(data), generator=g).split(batch_size):
            mask = random_mask(len(idx), enc.in_dim, mask_ratio, g).to(device)
            loss = masked_reconstruction_loss(enc, dec, data[idx.to(device)], mask)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        history.append(total / steps)
        log.info("masked pre-training epoch %d/%d: loss %.4f", epoch + 1, epochs, history[-1])
    return history


class TwoViews(Dataset):
    """Item i -> (view a, view b): crop i augmented twice (crop, flip, rotation, brightness/
    contrast), each view seeded by (seed, epoch, i, view), preprocessed as at inference. Crops
    are read once and kept in memory."""

    def __init__(self, paths: list[str], data_dir: Path, config: ModelConfig, *,
                 augment: Augment = SIMCLR_AUGMENT, seed: int = 0):
        self.paths, self.data_dir, self.config = paths, Path(data_dir), config
        self.augment, self.seed, self.epoch = augment, seed, 0
        self.cache: dict[int, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, i: int) -> np.ndarray:
        if i not in self.cache:
            img = cv2.imread(str(self.data_dir / self.paths[i]), cv2.IMREAD_COLOR)
            if img is None:
                raise FileNotFoundError(f"cannot read the crop {self.data_dir / self.paths[i]}")
            self.cache[i] = img
        return self.cache[i]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        img, size = self.read(i), self.config.input_size
        views = [apply(img, self.augment, np.random.default_rng([self.seed, self.epoch, i, k]), size,
                       gray=self.config.channels == 1, native_size=self.config.native_size)
                 for k in (0, 1)]
        x = preprocess(np.stack(views), self.config)
        return x[0], x[1]


def pretrain_simclr(model: AffectNet, paths: list[str], data_dir: Path, *, epochs: int, lr: float,
                    batch_size: int, temperature: float = 0.2, hidden: int = 128, proj_dim: int = 64,
                    weight_decay: float = 1e-4, seed: int = 0, device: str = "cpu") -> list[float]:
    """Train model.backbone with a projection head on NT-Xent between two augmented views of
    each crop; returns the mean loss of each epoch."""
    enc = model.backbone.to(device).train()
    proj = MLPHead(enc.feature_dim, hidden, proj_dim).to(device)
    ds = TwoViews(paths, data_dir, model.config, seed=seed)
    sampler = EpochSampler(len(ds), seed=seed)
    batch_size = min(batch_size, len(ds))
    loader = DataLoader(ds, batch_size=batch_size, sampler=sampler, drop_last=True)
    opt, sched = _optimiser([*enc.parameters(), *proj.parameters()], lr, weight_decay,
                            epochs * len(loader))
    history = []
    for epoch in range(epochs):
        ds.set_epoch(epoch)
        sampler.set_epoch(epoch)
        total = 0.0
        for a, b in loader:
            z = proj(enc(torch.cat([a, b]).to(device)).mean(dim=(2, 3)))
            loss = nt_xent(z[:len(a)], z[len(a):], temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        history.append(total / max(len(loader), 1))
        log.info("SimCLR pre-training epoch %d/%d: loss %.4f", epoch + 1, epochs, history[-1])
    return history
