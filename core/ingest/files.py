"""Content-addressed crop/media storage under the data dir and safe resolution of import paths."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import cv2
import numpy as np

from core.config import get_settings


class UnsafePathError(ValueError):
    """A path in an import file that escapes the import root (.., absolute, symlink out)."""


def resolve_inside(root: Path, name: str) -> Path:
    """`root / name`, refusing absolute paths, `..` and symlinks that lead outside `root`."""
    if not name or "\x00" in name:
        raise UnsafePathError("empty path" if not name else "path contains a NUL byte")
    rel = Path(name.replace("\\", "/"))
    if rel.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafePathError(f"absolute path {name!r} is not allowed; use a path relative to {root}")
    if ".." in rel.parts:
        raise UnsafePathError(f"path {name!r} climbs out of the import folder with '..'")
    root_real = root.resolve()
    target = (root / rel).resolve()
    if root_real != target and root_real not in target.parents:
        raise UnsafePathError(f"path {name!r} leads outside the import folder (symlink?)")
    return target


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(target: Path, data: bytes) -> bool:
    """Write once: returns True if the file was created now, False if it already existed."""
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)
    return True


class BlobStore:
    """Writes crops/media named by content hash; remembers new files so a failed import can undo them."""

    def __init__(self) -> None:
        self.settings = get_settings()
        self.created: list[Path] = []

    def put(self, kind: str, data: bytes, suffix: str) -> tuple[str, str]:
        """Store bytes under data_dir/kind/ab/<sha><suffix>; returns (sha256, relative path)."""
        sha = sha256_bytes(data)
        rel = f"{kind}/{sha[:2]}/{sha}{suffix.lower()}"
        if _write_atomic(self.settings.data_dir / rel, data):
            self.created.append(self.settings.data_dir / rel)
        return sha, rel

    def put_crop_array(self, crop: np.ndarray) -> tuple[str, str]:
        ok, buf = cv2.imencode(".png", crop)
        if not ok:
            raise ValueError("could not encode crop as PNG")
        return self.put("crops", buf.tobytes(), ".png")

    def discard_new(self, keep: set[str] | None = None) -> None:
        """Remove files this store created (after a refused import)."""
        for path in self.created:
            if keep and path.name.split(".")[0] in keep:
                continue
            path.unlink(missing_ok=True)
        self.created.clear()

