"""Content-addressed crop/media storage under the data dir and safe resolution of import paths."""
from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

import cv2
import numpy as np

from core.config import get_settings


class UnsafePathError(ValueError):
    """A path in an import file that escapes the import root (.., absolute, symlink out)."""


def resolve_inside(root: Path, name: str, *, cache: dict | None = None) -> Path:
    """`root / name`, refusing absolute paths, `..` and symlinks that lead outside `root`.
    cache: a dict kept for one import, so each folder is resolved once (bulk CSV imports)."""
    if not name or "\x00" in name:
        raise UnsafePathError("empty path" if not name else "path contains a NUL byte")
    rel = Path(name.replace("\\", "/"))
    if rel.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafePathError(f"absolute path {name!r} is not allowed; use a path relative to {root}")
    if ".." in rel.parts:
        raise UnsafePathError(f"path {name!r} climbs out of the import folder with '..'")
    if cache is not None:
        target, inside = _resolve_cached(root, rel, cache)
    else:
        target, inside = _resolve(root, rel)
    if not inside:
        raise UnsafePathError(f"path {name!r} leads outside the import folder (symlink?)")
    return target


def _resolve(root: Path, rel: Path) -> tuple[Path, bool]:
    root_real = root.resolve()
    target = (root / rel).resolve()
    return target, root_real == target or root_real in target.parents


def _resolve_cached(root: Path, rel: Path, cache: dict) -> tuple[Path, bool]:
    """_resolve with each folder resolved once per import: realpath(root/dir/name) is
    realpath(root/dir)/name unless name itself is a symlink (then the full resolve runs)."""
    key = (str(root), str(rel.parent))
    hit = cache.get(key)
    if hit is None:
        root_real = root.resolve()
        dir_real = (root / rel.parent).resolve()
        hit = cache[key] = (dir_real, root_real == dir_real or root_real in dir_real.parents)
    dir_real, dir_inside = hit
    target = dir_real / rel.name if rel.name else dir_real
    try:
        link = stat.S_ISLNK(os.lstat(target).st_mode)
    except OSError:  # missing or unreadable: resolve() keeps a missing name as it is
        link = False
    if link:
        return _resolve(root, rel)
    return target, dir_inside


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(target: Path, data: bytes, made_dirs: set[str] | None = None) -> bool:
    """Write once: returns True if the file was created now, False if it already existed.
    made_dirs: folders known to exist (skips a mkdir per file)."""
    if target.exists():
        return False
    parent = str(target.parent)
    if made_dirs is None or parent not in made_dirs:
        target.parent.mkdir(parents=True, exist_ok=True)
        if made_dirs is not None:
            made_dirs.add(parent)
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
        self._made_dirs: set[str] = set()

    def put(self, kind: str, data: bytes, suffix: str, *, sha: str | None = None) -> tuple[str, str]:
        """Store bytes under data_dir/kind/ab/<sha><suffix>; returns (sha256, relative path).
        sha: sha256_bytes(data) when the caller has it already."""
        sha = sha256_bytes(data) if sha is None else sha
        rel = f"{kind}/{sha[:2]}/{sha}{suffix.lower()}"
        if _write_atomic(self.settings.data_dir / rel, data, self._made_dirs):
            self.created.append(self.settings.data_dir / rel)
        return sha, rel

    def has(self, kind: str, sha: str, suffix: str) -> bool:
        """Whether put(kind, <bytes of this sha>, suffix) would find its file already stored."""
        return os.path.exists(os.path.join(self.settings.data_dir, kind, sha[:2], f"{sha}{suffix.lower()}"))

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

