"""One schema migration at a time per store: a file lock beside a SQLite file, a PostgreSQL
advisory lock otherwise. Processes that start together on a new store wait for the first one's
migration, then find the schema at head (Alembic's upgrade is then a no-op)."""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

PG_LOCK_KEY = 0x41464C42  # "AFLB": the advisory lock id of AffectLab's migrations


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for in-memory or other databases)."""
    if engine.dialect.name != "sqlite":
        return None
    db = engine.url.database
    return None if not db or db == ":memory:" or db.startswith("file:") else Path(db)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the store's migration lock (blocking) for the body."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:  # a session-level lock on its own connection
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()
        return
    db = sqlite_file(engine)
    fd = None
    if db is not None:
        try:
            fd = os.open(f"{db}.migrate.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only folder: nobody can migrate there; nothing to serialise
            fd = None
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
