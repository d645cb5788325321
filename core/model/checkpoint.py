"""Save and load model checkpoints that carry their own config (loaded with weights_only=True)."""
from __future__ import annotations

import datetime as dt
import errno
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.model.config import ModelConfig
from core.model.net import AffectNet, build_model

FORMAT = "affectlab-model/1"


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written (disk full, read-only, quota...); the message names the
    file and the cause in one line, the previous file at that path is untouched."""

    def __init__(self, path: Path, cause: BaseException):
        os_error = _os_error(cause)
        if os_error is not None:
            code = errno.errorcode.get(os_error.errno or 0, "")
            why = f"{os_error.strerror or os_error}" + (f" ({code})" if code else "")
        else:
            why = (str(cause).splitlines() or [""])[0][:200] or type(cause).__name__
        super().__init__(f"cannot write checkpoint {path}: {why}; the previous file there is kept")
        self.path, self.errno = path, os_error.errno if os_error is not None else None


def _os_error(exc: BaseException | None) -> OSError | None:
    """The OSError behind exc: torch's zip writer reports a failed write as a RuntimeError
    ("[enforce fail at inline_container.cc] unexpected pos") raised while handling it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _plain(value: object, where: str) -> object:
    """Convert to types torch.load(weights_only=True) accepts; refuse anything else."""
    if value is None or isinstance(value, torch.Tensor):
        return value
    for kind in (bool, int, float, str):  # also subclasses (np.float64, TorchVersion) -> plain
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} holds a {type(value).__name__}, which a weights_only checkpoint "
                    "cannot store; pass plain numbers, strings, lists and dicts")


def save_checkpoint(path: str | Path, model: AffectNet, config: ModelConfig | None = None, *,
                    metrics: dict | None = None, extra: dict | None = None) -> Path:
    """Write {format, config, state_dict, metrics, extra, created} atomically (tmp + replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = config or model.config
    return atomic_torch_save(checkpoint_payload(FORMAT, config.to_dict(), model, metrics, extra), path)


def checkpoint_payload(fmt: str, config: dict[str, Any], model: torch.nn.Module, metrics: dict | None,
                       extra: dict | None) -> dict[str, Any]:
    """What a self-describing checkpoint holds (image and clip models alike)."""
    return {
        "format": fmt,
        "config": config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metrics": _plain(metrics or {}, "metrics"),
        "extra": _plain(extra or {}, "extra"),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "torch_version": str(torch.__version__),
    }


def atomic_torch_save(payload: dict[str, Any], path: str | Path) -> Path:
    """torch.save to a temp file beside path, fsync, then replace: readers never see half a file.
    A failed write removes the temp file and raises CheckpointWriteError (one line: the file and
    the cause, e.g. "No space left on device (ENOSPC)")."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CheckpointWriteError(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, (OSError, RuntimeError)) and not isinstance(exc, CheckpointWriteError):
            raise CheckpointWriteError(path, exc) from None
        raise
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu"
                    ) -> tuple[AffectNet, ModelConfig, dict]:
    """Rebuild the model from the checkpoint's own config; returns (model in eval mode, config,
    meta = every other entry: format, metrics, extra, created, torch_version)."""
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:  # e.g. a pickle that would run code when loaded
        why = next((ln.strip() for ln in str(exc).splitlines() if "Unsupported" in ln), "")
        raise ValueError(f"{path}: refused, not a weights-only checkpoint ({why[:300] or 'unreadable'})"
                         ) from None
    except (RuntimeError, EOFError, OSError) as exc:  # truncated or damaged zip, unreadable file
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise ValueError(f"{path}: not a readable checkpoint, truncated or damaged ({first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an AffectLab checkpoint ({FORMAT})")
    try:
        config = ModelConfig.from_dict(payload["config"])
        model = build_model(config)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # a config or weights that do not fit
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise ValueError(f"{path}: damaged model config or weights ({first})") from None
    model.to(map_location).eval()
    meta = {k: v for k, v in payload.items() if k not in ("config", "state_dict")}
    return model, config, meta
