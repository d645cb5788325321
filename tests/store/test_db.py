"""Schema from Alembic migrations on an empty DB, SQLite pragmas, downgrade/upgrade round trip."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from core.store.db import MIGRATIONS, get_engine, make_engine, upgrade
from core.store.models import Base


def _head() -> str:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrations_build_the_orm_schema_from_empty(env):
    engine = get_engine()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
    with engine.connect() as c:
        assert c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == _head()
        if engine.dialect.name == "sqlite":
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        else:  # the samples <-> annotations foreign key is added after both tables exist
            fks = {fk["name"] for fk in inspect(engine).get_foreign_keys("samples")}
            assert "fk_samples_cur_annotation" in fks


def test_no_drift_between_models_and_migrations(env):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = get_engine()
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_downgrade_then_upgrade(env):
    from core.config import get_settings

    engine = make_engine(get_settings().db_url)
    upgrade(engine)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "samples" in inspect(engine).get_table_names()
    engine.dispose()
