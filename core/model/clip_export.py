"""Export a clip-model checkpoint to ONNX (dynamic batch, N frames fixed), check parity against
torch with ONNX Runtime on inputs with masked frames, an all-masked clip and missing audio, and
write its card (config + parity) beside it; the config is also embedded in the file's metadata."""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.model.checkpoint import _plain
from core.model.clip_checkpoint import load_clip_model
from core.model.clip_config import ClipConfig

OPSET = 18
TOLERANCE = 1e-4  # max abs difference allowed on every output vs torch
CONFIG_KEY = "affectlab_clip_config"


class ClipParityError(ValueError):
    """The exported clip model's outputs differ from torch's by more than the tolerance."""


class _Flat(nn.Module):
    """A frames-only model with its output dict as a tuple in config.tasks order."""

    def __init__(self, model: nn.Module, tasks: list[str]):
        super().__init__()
        self.model, self.tasks = model, tasks

    def forward(self, frames: torch.Tensor, frame_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(frames, frame_mask)
        return tuple(out[t] for t in self.tasks)


class _FlatAV(_Flat):
    """An audio-visual model with its output dict as a tuple in config.tasks order."""

    def forward(self, frames: torch.Tensor, frame_mask: torch.Tensor, audio: torch.Tensor,
                audio_valid: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(frames, frame_mask, audio, audio_valid)
        return tuple(out[t] for t in self.tasks)


def input_names(config: ClipConfig) -> list[str]:
    names = ["frames", "frame_mask"]
    return names + ["audio", "audio_valid"] if config.has_audio else names


def example_inputs(config: ClipConfig, batch: int = 4, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs: random frames with about a third masked, the first clip wholly masked; for
    audio models random images with padded columns, the second clip without audio."""
    rng = np.random.default_rng(seed)
    frames = rng.normal(size=(batch, config.frames, config.input_dim)).astype(np.float32)
    mask = rng.random((batch, config.frames)) > 0.33
    mask[0] = False
    out = {"frames": frames, "frame_mask": mask}
    if config.has_audio:
        rows, width = _audio_shape(config)
        audio = rng.normal(size=(batch, rows, width)).astype(np.float32) * 20
        valid = np.ones((batch, width), bool)
        valid[:, width - width // 3:] = False
        valid[min(1, batch - 1)] = False
        audio[~np.broadcast_to(valid[:, None, :], audio.shape)] = 0.0
        out |= {"audio": audio, "audio_valid": valid}
    return out


def _audio_shape(config: ClipConfig) -> tuple[int, int]:
    from core.audio import AudioParams

    params = AudioParams.from_dict(config.audio)
    return params.rows, params.width


def _export(model: nn.Module, config: ClipConfig, example: dict[str, np.ndarray], path: Path) -> None:
    import onnx

    names = input_names(config)
    args = tuple(torch.from_numpy(example[n]) for n in names)
    batch = torch.export.Dim("batch", min=1, max=4096)
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flat = (_FlatAV if config.has_audio else _Flat)(model, config.tasks).eval()
            torch.onnx.export(flat, args, str(path), dynamo=True,
                              external_data=False, opset_version=OPSET, input_names=names,
                              output_names=list(config.tasks),
                              dynamic_shapes=tuple({0: batch} for _ in names), verbose=False)
    finally:
        quiet.setLevel(level)
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = CONFIG_KEY, json.dumps(_plain(config.to_dict(), "config"))
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))


def check_clip_parity(path: str | Path, model: nn.Module, config: ClipConfig, *,
                      tolerance: float = TOLERANCE, batch: int = 4) -> dict[str, Any]:
    """Max abs difference per output between ONNX Runtime and torch on example_inputs, whole batch
    and batch 1; raises ClipParityError above tolerance (NaN fails too)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = example_inputs(config, batch, seed=1)
    worst: dict[str, float] = {}
    for rows in (slice(None), slice(0, 1), slice(batch - 1, batch)):
        feed = {k: v[rows] for k, v in inputs.items()}
        ours = dict(zip(config.tasks, session.run(list(config.tasks), feed)))
        with torch.inference_mode():
            ref = model(*(torch.from_numpy(feed[n]) for n in input_names(config)))
        for task in config.tasks:
            diff = float(np.abs(ours[task].astype(np.float64) - ref[task].numpy()).max())
            worst[task] = max(worst.get(task, 0.0), diff) if not np.isnan(diff) else float("nan")
    result = {"clips": batch, "max_abs_diff": worst, "tolerance": tolerance,
              "inputs": "seeded random frames, 1/3 masked, one clip all masked" +
                        (", one clip without audio" if config.has_audio else "")}
    bad = {k: v for k, v in worst.items() if not v <= tolerance}
    if bad:
        raise ClipParityError(f"exported clip model differs from torch by {bad} (tolerance {tolerance})")
    return result


def export_clip_model(checkpoint: str | Path, out: str | Path | None = None, *,
                      tolerance: float = TOLERANCE) -> dict[str, Any]:
    """Export to `out` (default: the checkpoint with .onnx), parity-checked before it replaces any
    earlier export; writes `<out>.json` (config, parity, checkpoint)."""
    checkpoint = Path(checkpoint).resolve()
    model, config, meta = load_clip_model(checkpoint)
    out = Path(out) if out else checkpoint.with_suffix(".onnx")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        _export(model, config, example_inputs(config, 2), tmp)
        parity = check_clip_parity(tmp, model, config, tolerance=tolerance)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    card = {"format": "onnx", "opset": OPSET, "kind": config.kind, "config": config.to_dict(),
            "inputs": input_names(config), "outputs": list(config.tasks), "parity": parity,
            "checkpoint": {"path": str(checkpoint)}, "metrics": meta.get("metrics") or {}}
    card_file = out.with_name(out.name + ".json")
    card_file.write_text(json.dumps(_plain(card, "card"), indent=1))
    return {"path": str(out), "card": str(card_file), "bytes": out.stat().st_size, "parity": parity}
