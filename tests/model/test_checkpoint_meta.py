"""core.model.checkpoint_meta: a checkpoint's config and metadata read without torch, safely."""
from __future__ import annotations

import io
import os
import pickle
import zipfile

import pytest
import torch

from core.model.checkpoint import save_checkpoint
from core.model.checkpoint_meta import read_config, read_payload
from core.model.config import ModelConfig
from core.model.net import build_model


def test_same_plain_values_as_torch_load(tmp_path):
    model = build_model(ModelConfig.for_backbone("mini_xception", classes=["a", "b", "c"], widths=[4, 8]))
    path = save_checkpoint(tmp_path / "m.pt", model, metrics={"val": {"macro_f1": 0.5}},
                           extra={"epoch": 3, "note": ["x", 1.5]})
    ours, theirs = read_payload(path), torch.load(path, weights_only=True)
    for key in ("format", "config", "metrics", "extra", "created", "torch_version"):
        assert ours[key] == theirs[key], key
    assert list(ours["state_dict"]) == list(theirs["state_dict"])
    assert all(v is None for v in ours["state_dict"].values())
    assert ModelConfig.from_dict(read_config(path)) == model.config


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def _zip_with(pickled: bytes, path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickled)
    return path


def test_refuses_code_and_junk(tmp_path):
    evil = _zip_with(pickle.dumps({"config": {}, "x": _Evil()}), tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="posix.system is not allowed|os.system is not allowed"):
        read_payload(evil)
    (tmp_path / "junk.pt").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        read_payload(tmp_path / "junk.pt")
    plain = _zip_with(pickle.dumps({"format": "other"}), tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="no config"):
        read_config(plain)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/other.bin", b"")
    (tmp_path / "nopkl.pt").write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="no data.pkl"):
        read_payload(tmp_path / "nopkl.pt")
