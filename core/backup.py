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

from core.config import get_settings
from core.store.db import dispose_all

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
    path = url.split("///", 1)[-1] if "///" in url else ""
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


def backup(to: str | Path, *, force: bool = False, db_url: str | None = None) -> dict[str, Any]:
    """Write a consistent copy of the store to `to` (a single file, rollback-journal mode)."""
    started = time.perf_counter()
    source, to = sqlite_path(db_url), Path(to)
    if not source.is_file():
        raise BackupError(f"no label store at {source}")
    if to.resolve() == source.resolve():
        raise BackupError("the backup file cannot be the label store itself")
    if to.exists() and not force:
        raise BackupError(f"{to} exists; pass --force to overwrite it")
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = to.with_name(f".{to.name}.{os.getpid()}.tmp")
    try:
        _copy(source, tmp)
        con = sqlite3.connect(tmp)
        con.execute("PRAGMA journal_mode=DELETE")  # self-contained: no -wal file needed beside it
        con.close()
        report = check_file(tmp)
        os.replace(tmp, to)  # a crash mid-backup never leaves a half-written FILE
    finally:
        tmp.unlink(missing_ok=True)
    return {"db": str(source), "to": str(to), "bytes": to.stat().st_size, **report,
            "seconds": round(time.perf_counter() - started, 3)}


def restore(from_: str | Path, *, force: bool = False, db_url: str | None = None) -> dict[str, Any]:
    """Replace the store's content with backup `from_`; an existing store needs `force` and is
    first copied beside itself (<db>.replaced-<UTC time>)."""
    started = time.perf_counter()
    target, source = sqlite_path(db_url), Path(from_)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if target.exists() and source.resolve() == target.resolve():
        raise BackupError("the backup file is the label store itself")
    report = check_file(source)
    kept = None
    if target.exists() and target.stat().st_size > 0:
        if not force:
            raise BackupError(f"{target} exists and would be replaced; pass --force to restore over it "
                              "(a copy of it is kept beside it)")
        kept = target.with_name(f"{target.name}.replaced-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        backup(kept, db_url=db_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)  # through SQLite's locks: open connections see the restored content
    con = sqlite3.connect(target, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    dispose_all()  # this process's pooled connections start afresh (and migrate an older backup)
    return {"db": str(target), "from": str(source), "replaced_copy": str(kept) if kept else None,
            **check_file(target), "backup_rows": report["rows"],
            "seconds": round(time.perf_counter() - started, 3)}
