"""Export a checkpoint to ONNX or TorchScript, check parity on real faces, write its model card."""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.auth import Identity, Role, require
from core.inference.backends import (
    CONFIG_METADATA_KEY,
    OnnxRunner,
    export_is_current,
    export_path,
    load_torchscript,
)
from core.inference.card import build_card, card_path, write_card
from core.inference.prediction import output_names, postprocess
from core.inference.trust import record_export
from core.model.checkpoint import load_checkpoint
from core.model.config import ModelConfig

FORMATS = ("onnx", "torchscript")
OPSET = 18  # ONNX opset written (ONNX Runtime >= 1.14 runs it)
TOLERANCE = 1e-4  # max abs difference allowed on every raw output vs torch


class ParityError(ValueError):
    """The exported model's outputs differ from torch's by more than the tolerance."""


class _TupleOutputs(nn.Module):
    """AffectNet with its output dict flattened into a tuple in output_names order (ONNX)."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(x)
        return tuple(out[n] for n in self.names)


def _export_onnx(model: nn.Module, config: ModelConfig, x: torch.Tensor, path: Path) -> int:
    """torch.onnx.export (dynamo), one file, dynamic batch; config embedded; checker-verified."""
    import onnx

    names = output_names(config)
    batch = torch.export.Dim("batch", min=1, max=4096)
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "torchvision is not installed" notes
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_TupleOutputs(model, names).eval(), (x,), str(path), dynamo=True,
                              external_data=False, opset_version=OPSET, input_names=["input"],
                              output_names=names, dynamic_shapes=({0: batch},), verbose=False)
    finally:
        quiet.setLevel(level)
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = CONFIG_METADATA_KEY, json.dumps(config.to_dict())
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))
    return max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def _export_torchscript(model: nn.Module, x: torch.Tensor, path: Path) -> None:
    """torch.jit.trace (fixed spatial size, any batch), saved with torch.jit.save."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TracerWarnings on the static 'same' padding, deprecation
        traced = torch.jit.trace(model, (x,), strict=False)
        torch.jit.save(traced, str(path))


def _diffs(ours: dict[str, np.ndarray], ref: dict[str, np.ndarray], config: ModelConfig
           ) -> dict[str, float]:
    d = {n: float(np.abs(ours[n].astype(np.float64) - ref[n]).max()) for n in ref}
    d["probs"] = float(np.abs(postprocess(ours, config)["probs"]
                              - postprocess(ref, config)["probs"]).max())
    return d


def check_parity(runner, model: nn.Module, config: ModelConfig, x: torch.Tensor, *,
                 tolerance: float = TOLERANCE) -> dict[str, Any]:
    """Max abs difference of every raw output (and the probabilities) between runner and
    torch on the whole batch and on batch-1 slices; raises ParityError above tolerance."""
    worst: dict[str, float] = {}
    batches = [x, x[:1], x[-1:]]
    agree = True
    for xb in batches:
        with torch.inference_mode():
            ref = {k: v.numpy().astype(np.float64) for k, v in model(xb).items()}
        ours = runner(xb.numpy())
        if set(ours) != set(ref):
            raise ParityError(f"exported outputs {sorted(ours)} differ from torch's {sorted(ref)}")
        for name, value in _diffs(ours, ref, config).items():
            worst[name] = max(worst.get(name, 0.0), value)
        agree &= bool(np.array_equal(ours["emotion"].argmax(1), ref["emotion"].argmax(1)))
    raw = {k: v for k, v in worst.items() if k != "probs"}
    result = {"n_faces": len(x), "batch_sizes": [len(b) for b in batches],
              "inputs": "real aligned face crops (asset photos + video frames, and mirrors)",
              "max_abs_diff": worst, "max_abs_diff_all": max(raw.values()),
              "top_class_agree": agree, "tolerance": tolerance}
    bad = {k: v for k, v in raw.items() if not v <= tolerance}  # NaN fails too
    if bad:
        raise ParityError(f"exported model differs from torch by {bad} (tolerance {tolerance})")
    return result


def export_model(checkpoint: str | Path, fmt: str = "onnx", out: str | Path | None = None, *,
                 tolerance: float = TOLERANCE, crops: list[np.ndarray] | None = None
                 ) -> dict[str, Any]:
    """Export checkpoint to fmt ("onnx" | "torchscript") at out (default: beside it, named per
    run, see export_path), check parity on real face crops (or `crops`), write the card beside
    it and record the file's sha256 as exported here (core.inference.trust: only recorded
    TorchScript files are ever loaded).

    The file only replaces an existing export once parity has passed.
    """
    from core.inference.media import real_face_crops
    from core.model.preprocess import preprocess

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {FORMATS}")
    start = time.perf_counter()
    checkpoint = Path(checkpoint).resolve()
    model, config, meta = load_checkpoint(checkpoint)
    out = Path(out) if out else export_path(checkpoint, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    if crops is None:
        crops = real_face_crops(config.input_size, gray=config.channels == 1)
    x = preprocess(crops, config)
    if len(x) == 0:
        raise ValueError("no face crops to check parity on")
    example = x[:2] if len(x) >= 2 else x.repeat(2, 1, 1, 1)  # batch 2: keeps the axis dynamic
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if fmt == "onnx":
            opset = _export_onnx(model, config, example, tmp)
            runner = OnnxRunner(tmp, threads=1)
        else:
            opset = None
            _export_torchscript(model, example, tmp)
        record_export(tmp.read_bytes(), name=out.name, fmt=fmt)  # before loading it back
        if fmt == "torchscript":
            runner = load_torchscript(tmp)
        parity = check_parity(runner, model, config, x, tolerance=tolerance)
        os.chmod(tmp, 0o644)  # mkstemp made it owner-only
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    card = build_card(config, meta, fmt=fmt, artifact=out, checkpoint=checkpoint,
                      parity=parity, opset=opset)
    write_card(out, card)
    return {"checkpoint": str(checkpoint), "format": fmt, "path": str(out),
            "card": str(card_path(out)), "bytes": out.stat().st_size, "opset": opset,
            "parity": parity, "seconds": round(time.perf_counter() - start, 2)}


def ensure_exported(checkpoint: str | Path, fmt: str = "onnx") -> Path:
    """Path of a current export beside checkpoint, exporting it first when missing or stale."""
    checkpoint = Path(checkpoint)
    path = export_path(checkpoint, fmt)
    if not export_is_current(checkpoint, path):
        export_model(checkpoint, fmt)
    return path


def export_in_subprocess(checkpoint: str | Path, fmt: str = "onnx", *, timeout: float = 900,
                         identity: Identity | None = None) -> dict[str, Any]:
    """ensure_exported in a fresh Python process (`python -m core.export_model CHECKPOINT FMT`),
    for long-running servers: torch.export's compile caches, worker threads and ~1 GB of peak
    memory stay out of the process that serves the Live page. Returns export_model's result
    ({"path", "card", "parity", ...}); ValueError with the child's last error line on failure.
    Admins only (core.auth)."""
    require(identity, Role.ADMIN, "exporting a model")
    import subprocess
    import sys

    from core.config import REPO_ROOT

    proc = subprocess.run([sys.executable, "-m", "core.export_model", str(checkpoint), fmt],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise ValueError(lines[-1] if lines else f"export exited with {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _main(argv: list[str]) -> int:
    """`python -m core.export_model CHECKPOINT [onnx|torchscript]`: one JSON line on stdout."""
    import sys

    checkpoint, fmt = Path(argv[0]), (argv[1] if len(argv) > 1 else "onnx")
    try:
        path = export_path(checkpoint, fmt)
        result = (export_model(checkpoint, fmt) if not export_is_current(checkpoint, path)
                  else {"checkpoint": str(checkpoint), "format": fmt, "path": str(path),
                        "card": str(card_path(path)), "bytes": path.stat().st_size, "current": True})
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
