"""Shared fixtures: a fresh data dir and SQLite file per test, assets from the repo's cache."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import REPO_ROOT

ASSETS = Path(REPO_ROOT / "data" / "assets")
_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def _pytest_main() -> Iterator[None]:
    """Streamlit's script runner (AppTest) installs app.py as sys.modules["__main__"] and leaves it
    there; a process started later with multiprocessing's "spawn" would then run app.py as its
    __mp_main__ (the whole app, bare) before its target. Put pytest's own back after each test."""
    yield
    sys.modules["__main__"] = _MAIN


@pytest.fixture(autouse=True, scope="session")
def _throwaway_default_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test that forgets the `env` fixture writes a throwaway store, never the checkout's
    annotations.db (a later test reading "the default store" would then see its rows)."""
    if "AFFECTLAB_DB_URL" in os.environ:
        yield
        return
    os.environ["AFFECTLAB_DB_URL"] = f"sqlite:///{tmp_path_factory.mktemp('default-store') / 'annotations.db'}"
    yield
    os.environ.pop("AFFECTLAB_DB_URL", None)


def block_network(monkeypatch: pytest.MonkeyPatch, what: str) -> None:
    """Fail any connection beyond loopback, and keep pip from downloading, for this test."""
    import socket

    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise RuntimeError(f"network access attempted in {what}: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("PIP_NO_INDEX", "1")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app at tmp_path/data and tmp_path/test.db; yields tmp_path."""
    from core.store.db import dispose_all

    monkeypatch.setenv("AFFECTLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AFFECTLAB_DB_URL", f"sqlite:///{tmp_path / 'test.db'}")
    monkeypatch.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
    _clear_streamlit_caches()
    yield tmp_path
    dispose_all()
    _clear_streamlit_caches()


def _clear_streamlit_caches() -> None:
    """Query results cached by an earlier test's AppTest (same dataset ids, another store) must not
    reach this one: one server has one store, a test process has many."""
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()


@pytest.fixture
def write(env):
    """A factory of write sessions on the test DB: `with write() as s, s.begin(): ...`."""
    from core.store.db import write_session

    return write_session


@pytest.fixture
def read(env):
    from core.store.db import read_session

    return read_session


def pytest_unconfigure(config: pytest.Config) -> None:
    """LiteRT prints INFO lines from C++ destructors when the face models close at exit; silence
    fd 2 just before that (after pytest restored it), so pytest's summary stays the last line."""
    import os
    import threading

    def _quiet() -> None:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)

    threading._register_atexit(_quiet)  # runs before the face models' own exit hooks
