"""Helpers for the inference tests: a tiny seeded resnet18 checkpoint, copying a model folder."""
from __future__ import annotations

import shutil
from pathlib import Path


def make_tiny_resnet(path: Path, seed: int = 0) -> Path:
    """A seeded random-init resnet18 at quarter width (112 RGB), with metrics and a data
    snapshot in its meta."""
    import torch

    from core.model.checkpoint import save_checkpoint
    from core.model.config import ModelConfig
    from core.model.net import build_model

    torch.manual_seed(seed)
    config = ModelConfig.for_backbone("resnet18", width_mult=0.25, source="test")
    model = build_model(config).eval()
    return save_checkpoint(path, model, metrics={"val": {"macro_f1": 0.25}},
                           extra={"training_data": {"dataset": "demo", "samples": 40}})


def copy_model(src_ckpt: Path, dest_dir: Path) -> Path:
    """Copy a checkpoint and every export + card beside it (same stem) into dest_dir."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    stem = src_ckpt.name.removesuffix(".pt")
    for f in src_ckpt.parent.iterdir():
        if f.name.split(".")[0] == stem:
            shutil.copy2(f, dest_dir / f.name)
    return dest_dir / src_ckpt.name
