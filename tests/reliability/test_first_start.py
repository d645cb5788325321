"""Concurrent first start: 3-6 processes open a brand-new SQLite store at the same instant; the
start-up migration runs once at a time and every process writes (no "database is locked")."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from core.config import REPO_ROOT
from core.store.db import read_session
from core.store.models import Dataset
from tests.reliability.corpus import REPORT

CHILD = """
import os, sys, time
from pathlib import Path
go = Path(sys.argv[1])
from core.store.datasets import get_or_create_dataset
from core.store.db import write_session
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
with write_session() as s, s.begin():
    get_or_create_dataset(s, sys.argv[2])
print("done", flush=True)
"""


@pytest.mark.parametrize("round_", range(6))
def test_processes_starting_together_on_a_new_store_all_succeed(env, round_):
    n = 3 + round_ % 4  # 3, 4, 5, 6, 3, 4 processes
    db = env / f"first{round_}.db"
    go = env / f"go{round_}"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(go), f"ds{i}"], cwd=REPO_ROOT,
                              env={**_env(env), "AFFECTLAB_DB_URL": f"sqlite:///{db}"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(n)]
    for p in procs:  # every child has imported everything: then they all start at once
        assert p.stdout.readline().strip() == "ready"
    go.touch()
    deadline = time.monotonic() + 120
    outs = [p.communicate(timeout=max(1, deadline - time.monotonic())) for p in procs]
    failed = [(p.returncode, err[-600:]) for p, (_, err) in zip(procs, outs) if p.returncode != 0]
    for p, (_, err) in zip(procs, outs):
        REPORT.record("concurrent first start", crash=p.returncode != 0, traceback="Traceback" in err)
    assert failed == []
    with read_session(f"sqlite:///{db}") as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == n


def _env(env) -> dict:
    import os
    return {k: v for k, v in os.environ.items() if k != "AFFECTLAB_DB_URL"}


PG_URL = __import__("os").environ.get("AFFECTLAB_TEST_PG_URL")


@pytest.mark.parametrize("round_", range(2))
def test_processes_starting_together_on_a_new_postgresql_database(env, round_):
    """The same on PostgreSQL (pg_advisory_lock), on a database created empty for the test."""
    if not PG_URL:
        pytest.skip("needs AFFECTLAB_TEST_PG_URL (scripts/start_postgres.sh), as the store tests")
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"first_start_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        n = 4 + round_
        go = env / f"pg-go{round_}"
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(go), f"ds{i}"], cwd=REPO_ROOT,
                                  env={**_env(env), "AFFECTLAB_DB_URL": url}, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for i in range(n)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        go.touch()
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (_, err) in zip(procs, outs):
            REPORT.record("concurrent first start", crash=p.returncode != 0, traceback="Traceback" in err)
        assert [(p.returncode, err[-600:]) for p, (_, err) in zip(procs, outs) if p.returncode] == []
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM datasets")).scalar() == n
        engine.dispose()
    finally:
        from core.store.db import dispose_all
        dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
