"""Model files this installation exported, by sha256: TorchScript is code and loads only from these.

`torch.jit.load` has no weights-only mode: a TorchScript file runs its own code when it is
loaded and called. export_model records the sha256 of every file it writes in
`$AFFECTLAB_DATA_DIR/trusted_exports.json`; load_torchscript_trusted reads a file into memory,
hashes those bytes and hands exactly those bytes to torch.jit.load only when the hash is
recorded (no window between the check and the load). Checkpoints (torch.load weights_only)
and ONNX files are data and need no record.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MANIFEST_FORMAT = "affectlab-trusted-exports/1"


class UntrustedModelError(ValueError):
    """A TorchScript file whose sha256 this installation never recorded at export time."""


def manifest_path() -> Path:
    from core.config import get_settings

    return get_settings().trusted_exports


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable record of trusted exports ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path} is not a record of trusted exports ({MANIFEST_FORMAT})")
    return data.get("files") or {}


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def record_export(data: bytes, *, name: str, fmt: str) -> str:
    """Record the sha256 of an exported file's bytes as written by this installation."""
    sha = hashlib.sha256(data).hexdigest()
    path = manifest_path()
    with _locked(path):
        files = _read(path)
        files[sha] = {"name": name, "format": fmt,
                      "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump({"format": MANIFEST_FORMAT, "files": files}, f, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return sha


def is_recorded(sha256: str) -> bool:
    return sha256 in _read(manifest_path())


def load_torchscript_trusted(path: str | Path):
    """torch.jit.load of path's bytes when their sha256 was recorded at export; else
    UntrustedModelError (the file is never handed to torch)."""
    path = Path(path)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if not is_recorded(sha):
        raise UntrustedModelError(
            f"{path}: refused. TorchScript files contain code that runs when loaded, and this "
            f"installation did not export this one (sha256 {sha[:12]}... is not recorded in "
            f"{manifest_path()}). Use its checkpoint (.pt) or an ONNX export, or export it here "
            "with `export-model`.")
    import warnings

    import torch

    with warnings.catch_warnings():  # torch.jit.load is deprecated in favour of torch.export
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(io.BytesIO(data), map_location="cpu").eval()
