"""Fixtures for the hosting tests: one data dir per session (the default model is converted and
exported once), assets from the repo's cache, no network beyond loopback."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.hosting.common import ASSETS, cached_asset

NEEDED = ("emotion_model.hdf5", "face_detection_short_range.tflite", "face_landmark.tflite",
          "0-f15-hao-ph.jpg")


@pytest.fixture(scope="session")
def app_env(tmp_path_factory) -> dict[str, str]:
    """AFFECTLAB_* variables of a fresh store shared by the session's hosting tests."""
    for name in NEEDED:
        cached_asset(name)
    root: Path = tmp_path_factory.mktemp("hosting")
    return {"AFFECTLAB_DATA_DIR": str(root / "data"), "AFFECTLAB_ASSETS_DIR": str(ASSETS),
            "AFFECTLAB_DB_URL": f"sqlite:///{root / 'store.db'}"}


@pytest.fixture
def in_app_env(app_env, monkeypatch) -> dict[str, str]:
    """This process points at app_env; connections beyond loopback fail."""
    import socket

    for key, value in app_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise RuntimeError(f"network access attempted in a hosting test: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield app_env
    from core.store.db import dispose_all

    dispose_all()
