"""Engine, sessions and schema upgrades for the label store (SQLite WAL or any SQLAlchemy URL)."""
from __future__ import annotations

import ast
import logging
import re
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.config import REPO_ROOT, get_settings
from core.store.errors import store_error
from core.store.migration_lock import migration_lock

log = logging.getLogger(__name__)

MIGRATIONS = REPO_ROOT / "migrations"
_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    """A new engine; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE for writes."""
    url = url or get_settings().db_url
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, record) -> None:
        _sqlite_pragmas(dbapi_conn, record)
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy pysqlite recipe)

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # A write transaction takes the write lock up front, so it waits (busy timeout) instead
        # of failing with "database is locked" when it upgrades from a read lock later.
        write = conn.get_execution_options().get("affectlab_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Upgrade (or downgrade) the schema to `revision` with Alembic.

    SQLite: foreign keys are off while the migrations run (SQLite's recipe for schema changes:
    batch mode rebuilds a table by copy, drop and rename, which a referenced table cannot survive
    with them on), then `PRAGMA foreign_key_check` must find nothing before the commit.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolates %: a password holding one would fail and be echoed in the error
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # on the DB-API connection: outside any transaction, where the pragma applies
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                (command.downgrade if down else command.upgrade)(cfg, revision)
                if sqlite and (bad := conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"migration to {revision} leaves broken foreign keys: {bad[:5]}")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration up to head."""
    migrate(engine)


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


def head_revision() -> str | None:
    """The one head of migrations/versions, read from the files' `revision` / `down_revision`
    lines without importing Alembic (~0.5 s); None when that is not plain (a merge, two heads)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        try:
            rev, down = (ast.literal_eval(found[k]) for k in ("revision", "down_revision"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(rev, str) or not (down is None or isinstance(down, str)):
            return None
        revisions.add(rev)
        parents.add(down)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """Whether the store's schema is already at head (then Alembic need not even be imported)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            versions = [r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
    except DBAPIError:  # no such table (a new store), or not a database: upgrade says why
        return False
    return versions == [head]


def get_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """The process-wide engine for a URL, migrated to head on first use."""
    url = url or get_settings().db_url
    with _LOCK:
        if url not in _ENGINES:
            try:
                engine = make_engine(url)
                if migrate and not at_head(engine):
                    with migration_lock(engine):  # processes starting together migrate one by one
                        upgrade(engine)
            except (DBAPIError, sqlite3.Error, OSError) as exc:  # garbage file, read-only, full disk
                raise store_error(exc, url) from None
            _ENGINES[url] = engine
        return _ENGINES[url]


_FACTORIES: dict[tuple[str, bool], tuple[Engine, sessionmaker[Session]]] = {}


def session_factory(url: str | None = None, *, write: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or for writing (SQLite: BEGIN IMMEDIATE). One factory per engine
    and mode, made once: a new sessionmaker per call cost ~0.75 ms of every session."""
    engine = get_engine(url)
    key = (str(engine.url), write)
    cached = _FACTORIES.get(key)
    if cached is None or cached[0] is not engine:  # a disposed and re-created engine: new factory
        bind = engine.execution_options(affectlab_write=True) if write else engine
        cached = _FACTORIES[key] = (engine, sessionmaker(bind, expire_on_commit=False))
    return cached[1]


def write_session(url: str | None = None) -> Session:
    """Use as `with write_session() as s, s.begin(): ...`: one transaction per user action."""
    return session_factory(url, write=True)()


def read_session(url: str | None = None) -> Session:
    return session_factory(url)()


def optimize(engine: Engine | None = None) -> None:
    """Refresh the query planner's statistics after bulk changes (SQLite `PRAGMA optimize`)."""
    engine = engine or get_engine()
    if engine.dialect.name == "sqlite":
        # a write transaction from the start (BEGIN IMMEDIATE): ANALYZE writes sqlite_stat1, and a
        # read transaction upgraded after another writer committed fails at once ("database is
        # locked", no busy wait); the statistics are a nicety, so a store still busy after the
        # busy timeout leaves them for next time rather than failing the caller's committed work
        try:
            with engine.execution_options(affectlab_write=True).connect() as conn:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled statistics: fast at 1M rows
                has_stats = conn.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
                # PRAGMA optimize only refreshes statistics that exist; the first time, ANALYZE
                conn.exec_driver_sql("PRAGMA optimize=0x10002" if has_stats else "ANALYZE")
                conn.commit()
        except OperationalError as exc:
            log.warning("planner statistics not refreshed (the store stayed busy): %s", str(exc).splitlines()[0])
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE samples")


def dispose_all() -> None:
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        _FACTORIES.clear()
