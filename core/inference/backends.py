"""Runners: NCHW float32 batch -> raw output arrays, for torch, TorchScript and ONNX Runtime.

Each runner is safe to call from several threads at once: torch modules are in eval mode and
never mutated, an ONNX Runtime session's run() is thread-safe.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

CONFIG_METADATA_KEY = "affectlab_config"  # ONNX metadata_props entry: ModelConfig.to_dict() JSON


class OnnxRunner:
    """An ONNX Runtime CPU session; threads = intra-op threads (1 suits a live video callback)."""

    def __init__(self, path: str | Path, *, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, int(threads))  # 0 = ONNX Runtime's default
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types (InvalidProtobuf ...)
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"{path}: not a readable ONNX model ({first.split(' : ')[-1][:200]})") from None
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    def metadata_config(self) -> dict | None:
        """The ModelConfig dict embedded at export, if any."""
        raw = self.session.get_modelmeta().custom_metadata_map.get(CONFIG_METADATA_KEY)
        return None if raw is None else json.loads(raw)

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        return dict(zip(self.output_names, self.session.run(self.output_names, {self.input_name: x})))


class TorchRunner:
    """An eval-mode AffectNet or a loaded TorchScript module (both return a dict of tensors)."""

    def __init__(self, module):
        self.module = module

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        with torch.inference_mode():  # thread-local: no shared state is touched
            out = self.module(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        return {k: v.detach().cpu().numpy() for k, v in out.items()}


def load_torchscript(path: str | Path) -> TorchRunner:
    """A TorchScript file this installation exported (see core.inference.trust); any other is
    refused with UntrustedModelError before torch sees it."""
    from core.inference.trust import load_torchscript_trusted

    return TorchRunner(load_torchscript_trusted(path))


def artifact_kind(path: Path) -> str:
    """"onnx", "torchscript" (.ts.pt) or "checkpoint" (any other file, e.g. .pt)."""
    name = path.name.lower()
    if name.endswith(".onnx"):
        return "onnx"
    if name.endswith(".ts.pt"):
        return "torchscript"
    return "checkpoint"


def export_stem(checkpoint: str | Path) -> str:
    """The name exports of checkpoint carry, per run: run-3/best.pt -> "run-3",
    run-3/last.pt -> "run-3-last", fer_mini_xception.pt -> "fer_mini_xception"."""
    checkpoint = Path(checkpoint)
    stem = checkpoint.name.removesuffix(checkpoint.suffix)
    run = checkpoint.parent.name
    if re.fullmatch(r"run-\d+", run):
        return run if stem == "best" else f"{run}-{stem}"
    return stem


def export_path(checkpoint: str | Path, fmt: str) -> Path:
    """Where an export of checkpoint lives by default: beside it, named per run
    (models/run-3/best.pt -> models/run-3/run-3.onnx / run-3.ts.pt)."""
    suffix = {"onnx": ".onnx", "torchscript": ".ts.pt"}[fmt]
    return Path(checkpoint).with_name(export_stem(checkpoint) + suffix)


def export_is_current(checkpoint: Path, artifact: Path) -> bool:
    """True when artifact and its card exist and the card names this checkpoint's content."""
    from core.inference.card import file_sha256, read_card

    if not artifact.is_file():
        return False
    try:
        card = read_card(artifact)
    except (ValueError, OSError):
        return False
    if card is None:
        return False
    return card.get("checkpoint", {}).get("sha256") == file_sha256(checkpoint)


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
