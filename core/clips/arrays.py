"""Clip arrays on disk: float16 .npy files named by content (data_dir/<kind>/ab/<sha>.npy, written
through the BlobStore), and one small JSON record per computation key (data_dir/<kind>/keys/) that
says which array a clip + settings produced, so a rerun skips what is done (resume)."""
from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.config import get_settings
from core.ingest.files import BlobStore

KINDS = ("clip_embeddings", "clip_audio")


class ArrayStore:
    """put(kind, array) -> (sha, rel); load(rel); record/lookup(kind, key). Use as a context manager
    (or call close()): writes hold the data dir's blob lock shared, like every other writer."""

    def __init__(self) -> None:
        self.data_dir = get_settings().data_dir
        self._blobs = BlobStore()

    def __enter__(self) -> ArrayStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._blobs.release()

    def put(self, kind: str, array: np.ndarray) -> tuple[str, str]:
        """Store the array as float16 .npy; same content, same file (written once)."""
        _check_kind(kind)
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(array, dtype=np.float16), allow_pickle=False)
        return self._blobs.put(kind, buf.getvalue(), ".npy")

    def load(self, rel: str) -> np.ndarray:
        """The array at a data-dir relative path (as float16)."""
        path = (self.data_dir / rel).resolve()
        if not path.is_relative_to(self.data_dir.resolve()):
            raise ValueError(f"{rel}: not a path inside the data dir")
        return np.load(path, allow_pickle=False)

    def record(self, kind: str, key: str, info: dict[str, Any]) -> None:
        """Remember what `key` produced (atomic: a reader sees the old record or the new one)."""
        _check_kind(kind)
        target = self._key_path(kind, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_text(json.dumps(info))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def lookup(self, kind: str, key: str) -> dict[str, Any] | None:
        """The record of `key` when its array file still exists, else None."""
        path = self._key_path(kind, key)
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return info if (self.data_dir / info.get("rel", "\0")).is_file() else None

    def _key_path(self, kind: str, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"array key {key!r} must be letters and digits (a hash)")
        return self.data_dir / kind / "keys" / key[:2] / f"{key}.json"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"array kind {kind!r} is not one of {', '.join(KINDS)}")
