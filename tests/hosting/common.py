"""Shared bits of the hosting tests: cached assets, free ports, HTTP polling, subprocess logs."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.config import REPO_ROOT

ASSETS = REPO_ROOT / "data" / "assets"
# A sitecustomize.py for child processes: refuses, and records in $NET_LOG, every name lookup
# and TCP connection beyond loopback, so a test can prove a server used nothing else. (A UDP
# connect sends no packet - Streamlit uses one to learn its own LAN address - so it is allowed.)
NET_GUARD = '''
import os, socket
LOCAL = {None, "", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}
def _record(what):
    with open(os.environ["NET_LOG"], "a") as log:
        log.write(what + "\\n")
_getaddrinfo = socket.getaddrinfo
def _lookup(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in LOCAL:
        _record(f"lookup {name}")
        raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test: {name}")
    return _getaddrinfo(host, *args, **kwargs)
_connect = socket.socket.connect
def _guarded(sock, address):
    host = address[0] if isinstance(address, tuple) else None
    if host not in LOCAL and sock.type == socket.SOCK_STREAM:
        _record(f"connect {address!r}")
        raise OSError(f"network access blocked by the test: {address!r}")
    return _connect(sock, address)
socket.getaddrinfo = _lookup
socket.socket.connect = _guarded
'''


def cached_asset(name: str) -> Path:
    """A cached asset (never downloaded); skips when `python -m core assets` has not run."""
    path = ASSETS / name
    if not path.exists():
        pytest.skip(f"asset {name} not cached in {ASSETS} (run `python -m core assets` once)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, *, timeout: float = 120.0) -> float:
    """Poll url until it answers 200; returns the seconds waited. Fails if proc exits first."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server started with start_new_session=True, its children included."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""
