"""Backups of the SQLite label store with SQLite's online backup API, and restoring them.

`backup` copies a consistent snapshot while the app and training jobs keep writing (WAL readers
never block writers); `restore` writes a backup back through the same API, so connections other
processes hold see the restored store instead of a file swapped under them. PostgreSQL stores
are backed up with its own tools (pg_dump / pg_restore).
"""
from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from core.backup_checks import RestoreRefused, validate
from core.config import get_settings
from core.store.db import dispose_all, get_engine
from core.targets import TargetError, check_target, store_files

REQUIRED_TABLES = ("alembic_version", "datasets", "samples", "annotations")
PG_HELP = ("the label store is {dialect}, not SQLite: back it up with pg_dump, e.g. "
           "`pg_dump --format=custom --file=labels.dump \"$DB\"`, and restore with "
           "`pg_restore --clean --dbname=\"$DB\" labels.dump`")


class BackupError(RuntimeError):
    """A backup or restore that was refused; the message says why and what to do."""


def sqlite_path(db_url: str | None = None) -> Path:
    """The SQLite file of the store; BackupError for other databases or an in-memory store."""
    url = db_url or get_settings().db_url
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    if dialect != "sqlite":
        raise BackupError(PG_HELP.format(dialect=dialect))
    path = make_url(url).database or ""  # the file SQLAlchemy opens (%41 in a URL is "A")
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError(f"{url} is not a SQLite file that can be backed up")
    return Path(path)


def check_file(path: Path) -> dict[str, Any]:
    """integrity_check of a SQLite file and its table sizes; BackupError if it is no label store."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            result = [r[0] for r in con.execute("PRAGMA integrity_check")]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608 - fixed names
                      for t in ("datasets", "samples", "annotations") if t in tables}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc})") from None
    if result != ["ok"]:
        raise BackupError(f"{path} fails SQLite's integrity check: {'; '.join(result[:5])}")
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{path} is not an AffectLab label store (no table {', '.join(missing)})")
    return {"integrity": "ok", "rows": counts}


def _copy(source: Path, target: Path) -> None:
    """Online-backup `source` into `target` in one step (one consistent snapshot)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # pages=-1: every page under one read transaction; writers go on (WAL)
    finally:
        dst.close()
        src.close()


def _target(to: str | Path, *, force: bool, db_url: str | None, inputs: tuple[Path, ...] = ()) -> Path:
    try:
        return check_target(to, force=force, what="backup", inputs=inputs, db_url=db_url)
    except TargetError as exc:
        raise BackupError(str(exc)) from None


def backup(to: str | Path, *, force: bool = False, db_url: str | None = None) -> dict[str, Any]:
    """Write a consistent copy of the store to `to` (a single file, rollback-journal mode).

    Refused: the store's own files (db, -wal, -shm, -journal), a folder, an existing file
    without `force`, a file in the data dir's crops/media. Nothing but `to` is written: the
    copy goes to a temp file beside it, removed whatever fails.
    """
    started = time.perf_counter()
    source = sqlite_path(db_url)
    if not source.is_file():
        raise BackupError(f"no label store at {source}")
    to = _target(to, force=force, db_url=db_url)
    tmp = to.with_name(f".{to.name}.{os.getpid()}.tmp")
    try:
        to.parent.mkdir(parents=True, exist_ok=True)
        _copy(source, tmp)
        con = sqlite3.connect(tmp)
        con.execute("PRAGMA journal_mode=DELETE")  # self-contained: no -wal file needed beside it
        con.close()
        report = check_file(tmp)
        os.replace(tmp, to)  # a crash mid-backup never leaves a half-written FILE
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{to}: backup failed ({exc}); nothing was written") from None
    except OSError as exc:
        raise BackupError(f"{to}: backup failed: {exc.strerror or exc}; nothing was written") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)
    return {"db": str(source), "to": str(to), "bytes": to.stat().st_size, **report,
            "seconds": round(time.perf_counter() - started, 3)}


def _set_aside(target: Path, kept: Path) -> str:
    """Keep the current store as `kept` before it is replaced: an online backup when it is a
    sound store, else its raw bytes moved aside (a garbage or corrupt file must not block a
    restore, which is when one is needed). Returns how it was kept."""
    try:
        check_file(target)
        sound = True
    except BackupError:
        sound = False
    if sound:
        backup(kept, db_url=f"sqlite:///{target}")
        return "backup"
    dispose_all()
    os.replace(target, kept)
    for side in ("-wal", "-shm", "-journal"):
        extra = target.with_name(target.name + side)
        if extra.exists():
            os.replace(extra, kept.with_name(kept.name + side))
    return "moved (the store was not a readable SQLite database)"


def restore(from_: str | Path, *, force: bool = False, db_url: str | None = None) -> dict[str, Any]:
    """Replace the store's content with backup `from_`; an existing store needs `force` and is
    first kept beside itself (<db>.replaced-<UTC time>).

    The backup must pass SQLite's integrity check, carry a schema revision this app knows (an
    older one is upgraded after the restore), hold no schema object our migrations do not
    create, and name no file outside the data dir (core.backup_checks).
    """
    started = time.perf_counter()
    target, source = sqlite_path(db_url), Path(from_)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if any(f.exists() and source.resolve() == f.resolve() for f in store_files(db_url)):
        raise BackupError("the backup file is the label store itself (or one of its -wal/-shm files)")
    report = check_file(source)
    try:
        state = validate(source)
    except RestoreRefused as exc:
        raise BackupError(str(exc)) from None
    kept, how = None, None
    if target.exists() and target.stat().st_size > 0:
        if not force:
            raise BackupError(f"{target} exists and would be replaced; pass --force to restore over it "
                              "(a copy of it is kept beside it)")
        kept = target.with_name(f"{target.name}.replaced-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        how = _set_aside(target, kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)  # through SQLite's locks: open connections see the restored content
    con = sqlite3.connect(target, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    dispose_all()  # this process's pooled connections start afresh
    if state == "older":
        get_engine(db_url)  # migrates to head
        dispose_all()
    return {"db": str(target), "from": str(source), "replaced_copy": str(kept) if kept else None,
            "replaced_how": how, "schema": "upgraded" if state == "older" else "current",
            **check_file(target), "backup_rows": report["rows"],
            "seconds": round(time.perf_counter() - started, 3)}
