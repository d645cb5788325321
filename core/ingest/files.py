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
from core.ingest.blob_lock import BlobLock, DataDirError
from core.ingest.gc import discard_unreferenced


class UnsafePathError(ValueError):
    """A path in an import file that escapes the import root (.., absolute, symlink out)."""


def resolve_inside(root: Path, name: str, *, cache: dict | None = None) -> Path:
    """`root / name`, refusing absolute paths, `..` and symlinks that lead outside `root`.
    cache: a dict kept for one import, so each folder is resolved once (bulk CSV imports)."""
    if not name or "\x00" in name:
        raise UnsafePathError("empty path" if not name else "path contains a NUL byte")
    # a backslash (or a colon) is a legal character of a Linux file name: when such a file
    # exists, it is that file; otherwise a backslash is a Windows separator (imgs\\a.png)
    literal = ("\\" in name or ":" in name) and not name.startswith("/") and os.path.lexists(root / name)
    rel = Path(name if literal else name.replace("\\", "/"))
    windows_absolute = name.startswith("\\") or (len(name) > 1 and name[1] == ":")
    if rel.is_absolute() or name.startswith("/") or (windows_absolute and not literal):
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


def files_under(path: Path, exts: set[str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """What an importer reads from `path`, and the symbolic links it refuses (with the reason).

    The one rule for every importer: a file the user names is read even if it is a link; inside a
    named folder, a link (to a file or a folder, relative or absolute) that leads outside the
    folder, or loops, is refused. Files are those whose suffix is in `exts`; hidden names skipped.
    """
    if path.is_file():
        return [path], []
    files, refused = [], []
    for p in sorted(path.rglob("*")):  # rglob never descends into a linked folder
        if p.name.startswith(".") or not (p.suffix.lower() in exts or p.is_symlink() and p.is_dir()):
            continue
        if p.is_symlink():
            try:
                resolve_inside(path, p.relative_to(path).as_posix())
            except UnsafePathError:
                refused.append((p, "is a symbolic link that leads outside the import folder; copy the "
                                   "file in or import the folder it points to"))
                continue
            except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a symlink loop
                refused.append((p, "is a symbolic link that loops (it never reaches a file)"))
                continue
        if p.suffix.lower() in exts:
            files.append(p)
    return files, refused


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
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:  # disk full, read-only, interrupted: no half-written temp file stays
        tmp.unlink(missing_ok=True)
        raise
    return True


class BlobStore:
    """Writes crops/media named by content hash; remembers new files so a failed import can undo them.

    Holds the blob lock shared from its first look at the store until `release()` (after the
    writer's commit): files it found or wrote cannot be deleted by another writer's clean-up.
    """

    def __init__(self) -> None:
        self.settings = get_settings()
        self.created: list[Path] = []
        self._made_dirs: set[str] = set()
        self.lock = BlobLock(self.settings.data_dir)
        self.left_for_gc: list[Path] = []

    def hold(self) -> None:
        """Take the blob lock now (an import does so before parsing)."""
        self.lock.hold()

    def release(self) -> None:
        self.lock.release()

    def put(self, kind: str, data: bytes, suffix: str, *, sha: str | None = None) -> tuple[str, str]:
        """Store bytes under data_dir/kind/ab/<sha><suffix>; returns (sha256, relative path).
        sha: sha256_bytes(data) when the caller has it already."""
        sha = sha256_bytes(data) if sha is None else sha
        self.lock.hold()
        rel = f"{kind}/{sha[:2]}/{sha}{suffix.lower()}"
        try:
            created = _write_atomic(self.settings.data_dir / rel, data, self._made_dirs)
        except OSError as exc:  # read-only, disk full, a file where a folder belongs
            raise DataDirError(f"cannot write {self.settings.data_dir / rel}: {exc.strerror or exc}"
                               "; nothing was stored") from None
        if created:
            self.created.append(self.settings.data_dir / rel)
        return sha, rel

    def has(self, kind: str, sha: str, suffix: str) -> bool:
        """Whether put(kind, <bytes of this sha>, suffix) would find its file already stored."""
        self.lock.hold()
        return os.path.exists(os.path.join(self.settings.data_dir, kind, sha[:2], f"{sha}{suffix.lower()}"))

    def put_crop_array(self, crop: np.ndarray) -> tuple[str, str]:
        ok, buf = cv2.imencode(".png", crop)
        if not ok:
            raise ValueError("could not encode crop as PNG")
        return self.put("crops", buf.tobytes(), ".png")

    def discard_new(self, keep: set[str] | None = None, *, db_url: str | None = None) -> None:
        """Release the lock, then remove the files this store created that no committed row
        references (after a refused import); files `keep` names (by hash) stay. A file another
        writer may still need is left for `gc` (listed in `left_for_gc`)."""
        self.release()
        doomed = [p for p in self.created if not (keep and p.name.split(".")[0] in keep)]
        self.created.clear()
        self.left_for_gc += discard_unreferenced(doomed, db_url=db_url)

