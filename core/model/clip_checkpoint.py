"""Build, save and load clip models; a checkpoint carries its ClipConfig (label schema, tasks, N frames,
sampling rule, audio params, fusion members) and loads with torch.load(weights_only=True)."""
from __future__ import annotations

import pickle
import struct
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.model.checkpoint import _plain, atomic_torch_save, checkpoint_payload
from core.model.clip_config import AV_KINDS, VISUAL_KINDS, ClipConfig

FORMAT = "affectlab-clip-model/1"


def build_clip_model(config: ClipConfig) -> nn.Module:
    """A fresh model of config.kind."""
    if config.kind in VISUAL_KINDS:
        from core.model.temporal import build_visual

        return build_visual(config)
    if config.kind == "fusion":
        from core.model.fusion import FusionModel

        return FusionModel(config)
    if config.kind in AV_KINDS:
        from core.model.av_fusion import AudioVisualModel

        return AudioVisualModel(config)
    raise ValueError(f"unknown clip model kind {config.kind!r}")


def save_clip_model(path: str | Path, model: nn.Module, *, metrics: dict | None = None,
                    extra: dict | None = None) -> Path:
    """Write {format, config, state_dict, metrics, extra, created} atomically."""
    payload = checkpoint_payload(FORMAT, _plain(model.config.to_dict(), "config"), model, metrics, extra)
    return atomic_torch_save(payload, path)


def load_clip_model(path: str | Path, map_location: str | torch.device = "cpu"
                    ) -> tuple[nn.Module, ClipConfig, dict[str, Any]]:
    """(model in eval mode, its config, meta) rebuilt from the file alone; ValueError naming the
    file when it is not a readable clip checkpoint."""
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, struct.error, ValueError) as exc:
        raise ValueError(f"{path}: not a readable weights-only clip checkpoint ({_first_line(exc)})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an AffectLab clip-model checkpoint ({FORMAT})")
    try:
        config = ClipConfig.from_dict(payload["config"])
        model = build_clip_model(config)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path}: damaged clip-model config or weights ({_first_line(exc)})") from None
    model.to(map_location).eval()
    return model, config, {k: v for k, v in payload.items() if k not in ("config", "state_dict")}


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def load_member(path: str | Path) -> nn.Module:
    """A trained visual temporal model, to be frozen inside a fusion model."""
    model, config, _ = load_clip_model(path)
    if config.kind not in VISUAL_KINDS:
        raise ValueError(f"{path} holds a {config.kind} model; fusion takes {' or '.join(VISUAL_KINDS)} models")
    return model
