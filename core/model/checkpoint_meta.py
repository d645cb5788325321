"""A checkpoint's config and metadata without torch: the catalog and the ONNX predict path read
them in milliseconds instead of importing torch (about a second) to load the weights.

A torch.save file is a zip whose data.pkl holds the payload; tensors are references to other
entries. This unpickler builds only plain values (dicts, lists, strings, numbers), stands in
None for every tensor and refuses any other class, so, like torch.load(weights_only=True),
reading a file never runs code from it.
"""
from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

TENSOR_REBUILDERS = {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
                     ("torch._utils", "_rebuild_tensor")}


def _skip(*_args: Any) -> None:
    return None


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in TENSOR_REBUILDERS:
            return _skip
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch" and name.endswith("Storage"):
            return name  # only named inside a tensor reference, never called
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a checkpoint")

    def persistent_load(self, pid: Any) -> None:
        return None  # tensor storage: not read


def read_payload(path: str | Path) -> dict[str, Any]:
    """The saved dict with every tensor replaced by None (the state_dict keeps its keys).
    ValueError when the file is not a zip-format torch checkpoint or holds other classes."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            name = next((n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
            if name is None:
                raise ValueError(f"{path}: no data.pkl inside; not a torch checkpoint")
            with zf.open(name) as f:
                payload = _PlainUnpickler(f).load()
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path}: the checkpoint holds a {type(payload).__name__}, not a dict")
    return payload


def read_config(path: str | Path) -> dict[str, Any]:
    """The ModelConfig dict an AffectLab checkpoint carries (ValueError when it has none)."""
    config = read_payload(path).get("config")
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not an AffectLab checkpoint (no config)")
    return config
