"""Output files a backup or export may write: never the store's own files (db, -wal, -shm,
-journal), never a file under the data dir's crops/ or media/, never the input being read,
never an existing file without force, never a folder."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from core.config import get_settings

SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


class TargetError(ValueError):
    """An output path that is refused; the message names it and the reason."""


def store_files(db_url: str | None = None) -> list[Path]:
    """The SQLite store file and its side files (none for other databases or in-memory)."""
    url = make_url(db_url or get_settings().db_url)  # the file SQLAlchemy opens (%41 -> A)
    path = url.database if url.get_backend_name() == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        return []
    return [Path(path + suffix) for suffix in SQLITE_SIDE_FILES]


def _same(a: Path, b: Path) -> bool:
    """The same file: by resolved path, or by inode for hard links and other spellings."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def check_target(to: str | Path, *, force: bool, what: str, inputs: tuple[Path, ...] = (),
                 db_url: str | None = None) -> Path:
    """`to` as a Path if `what` (e.g. "backup") may write it; TargetError naming why not."""
    to = Path(to)
    for f in store_files(db_url):
        if _same(to, f):
            raise TargetError(f"{to}: refused as the {what} file: it is the label store's own file "
                              f"{f.name}; writing it would destroy committed edits")
    for src in inputs:
        if _same(to, src):
            raise TargetError(f"{to}: refused as the {what} file: it is the file being read")
    data_dir = get_settings().data_dir
    for kind in ("crops", "media"):
        if _inside(to, data_dir / kind):
            raise TargetError(f"{to}: refused as the {what} file: it is inside the store's {kind} folder")
    if to.is_dir():
        raise TargetError(f"{to}: refused as the {what} file: it is a folder; name a file")
    if (to.exists() or to.is_symlink()) and not force:
        raise TargetError(f"{to} exists; pass --force to overwrite it")
    parent = to.parent if str(to.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise TargetError(f"{to}: cannot write the {what} file: {parent} is not a folder")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise TargetError(f"{to}: cannot write the {what} file: the folder {parent} is not writable")
    return to
