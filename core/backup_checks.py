"""What a backup must pass before it is restored: a schema revision this app knows, no schema
objects beyond the ones its migrations create (a trigger could rewrite every new label), and
file paths in rows that stay inside the data dir (or the models dir)."""
from __future__ import annotations

import sqlite3
import tempfile
import threading
from pathlib import Path, PurePosixPath

from core.config import get_settings
from core.store.db import MIGRATIONS

INTERNAL = ("sqlite_",)  # sqlite_sequence, sqlite_stat1, sqlite_autoindex_*: SQLite's own
RELATIVE_PATHS = (("media", "path"), ("samples", "crop_path"))  # relative to the data dir
FILE_PATHS = (("runs", "log_path"), ("runs", "checkpoint_path"), ("jobs", "log_path"))
_REFERENCE: dict[str, dict[tuple[str, str], set[str]]] = {}
_LOCK = threading.Lock()


class RestoreRefused(ValueError):
    """A backup that fails a check; the message says which and why."""


def _script():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg, ScriptDirectory.from_config(cfg)


def revision_of(con: sqlite3.Connection) -> str | None:
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return None
    return row[0][0] if len(row) == 1 else None


def check_revision(path: Path, revision: str | None) -> str:
    """'current' or 'older' (restored, then upgraded); RestoreRefused for unknown revisions."""
    _, script = _script()
    head = script.get_current_head()
    if revision is None:
        raise RestoreRefused(f"{path}: no schema revision (alembic_version) in the backup")
    if revision == head:
        return "current"
    if revision not in {r.revision for r in script.walk_revisions()}:  # no "head"-style aliases
        raise RestoreRefused(f"{path}: schema revision {revision!r} is unknown to this AffectLab "
                             f"(head {head}); it was made by a newer or a different app: refused")
    return "older"


def _objects(con: sqlite3.Connection) -> dict[tuple[str, str], set[str]]:
    """(type, name) -> column names (tables) of every schema object but SQLite's own."""
    out = {}
    for kind, name in con.execute("SELECT type, name FROM sqlite_master"):
        if name.startswith(INTERNAL):
            continue
        cols = {r[1] for r in con.execute(f'PRAGMA table_info("{name}")')} if kind == "table" else set()
        out[(kind, name)] = cols
    return out


def reference_schema(revision: str) -> dict[tuple[str, str], set[str]]:
    """The schema objects our migrations create up to `revision` (built once per process)."""
    from alembic import command
    from sqlalchemy import create_engine

    with _LOCK:
        if revision not in _REFERENCE:
            cfg, _ = _script()
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "reference.db"
                engine = create_engine(f"sqlite:///{db}")
                with engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                engine.dispose()
                con = sqlite3.connect(db)
                try:
                    _REFERENCE[revision] = _objects(con)
                finally:
                    con.close()
        return _REFERENCE[revision]


def check_schema(path: Path, con: sqlite3.Connection, revision: str) -> None:
    """RestoreRefused for a trigger, view, table, index or column our migrations do not create."""
    want = reference_schema(revision)
    extra = []
    for (kind, name), cols in _objects(con).items():
        if (kind, name) not in want:
            extra.append(f"{kind} {name}")
        elif cols - want[(kind, name)]:
            extra.append(f"columns {', '.join(sorted(cols - want[(kind, name)]))} of table {name}")
    if extra:
        raise RestoreRefused(f"{path}: schema objects this app does not create: {'; '.join(extra[:5])}"
                             " (a trigger or view could rewrite labels): refused")


def _inside(path: Path, roots: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved == r or r in resolved.parents for r in roots)


def check_paths(path: Path, con: sqlite3.Connection) -> None:
    """RestoreRefused when a row's file path leads outside the data dir (or the models dir)."""
    settings = get_settings()
    data = settings.data_dir.resolve()
    roots = [data, settings.models_dir.resolve()]
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    bad = []
    for table, col in RELATIVE_PATHS + FILE_PATHS:
        if table not in tables:
            continue
        for rid, value in con.execute(f'SELECT rowid, "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL'):  # noqa: S608
            text = str(value)
            rel = PurePosixPath(text)
            if (table, col) in RELATIVE_PATHS:
                ok = not rel.is_absolute() and ".." not in rel.parts and "\x00" not in text \
                    and _inside(data / text, [data])
            else:
                ok = "\x00" not in text and _inside(Path(text) if Path(text).is_absolute() else data / text, roots)
            if not ok:
                bad.append(f"{table}.{col} of row {rid} is {text[:120]!r}")
            if len(bad) >= 5:
                break
    if bad:
        raise RestoreRefused(f"{path}: file paths outside the data dir: {'; '.join(bad)}: refused")


def validate(path: Path) -> str:
    """Every check on a backup file (already integrity-checked); returns 'current' or 'older'."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        revision = revision_of(con)
        state = check_revision(path, revision)
        check_schema(path, con, revision)
        check_paths(path, con)
    finally:
        con.close()
    return state
