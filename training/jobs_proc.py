"""The OS side of training jobs: spawn detached workers, check liveness, kill process groups."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

_CHILDREN: dict[int, subprocess.Popen] = {}  # workers spawned by this process, reaped by poll()


def spawn_detached(argv: Sequence[str], *, log_path: Path, env: Mapping[str, str], cwd: Path) -> int:
    """Start argv in a new session (its own process group), output appended to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"--- {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC: {shlex.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=cwd, env=dict(env),
                                start_new_session=True)
    _CHILDREN[proc.pid] = proc
    return proc.pid


def worker_alive(pid: int, run_id: int | None = None) -> bool:
    """Whether pid runs (not a zombie) and, where /proc tells, its argv names run_id."""
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        _CHILDREN.pop(pid, None)
        return False
    try:
        if proc is None and os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # an untracked child of ours that had exited: now reaped
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc/self/stat").exists():
        return True  # no procfs: trust kill(pid, 0)
    proc_dir = Path(f"/proc/{pid}")
    try:
        state = (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[0]
        argv = (proc_dir / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        return False
    if state in ("Z", "X"):
        return False
    return run_id is None or str(run_id) in argv or f"--run-id={run_id}" in argv  # else pid reused


def kill_group(pid: int, *, term_s: float = 2.0) -> bool:
    """SIGTERM the worker's process group, SIGKILL it after term_s; True once the worker is gone."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return True
    ours = pgid == os.getpgrp()  # never signal our own group (a worker not started by launch)
    for sig, wait_s in ((signal.SIGTERM, term_s), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig) if ours else os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait_s
        while worker_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not worker_alive(pid):
            if not ours:  # leftovers of the group (DataLoader workers, DDP ranks)
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return True
    return False


def reap_children() -> None:
    """Collect the exit status of finished workers this process spawned (no zombies)."""
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            _CHILDREN.pop(pid, None)


def read_tail(path: Path, lines: int) -> str:
    """The last lines of a text file, each progress bar line shown as its latest state."""
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        size = 8192
        while True:  # read growing blocks from the end until they hold enough lines
            f.seek(max(0, end - size))
            data = f.read()
            if size >= end or data.count(b"\n") > lines:
                break
            size *= 4
    rows = data.decode("utf-8", "replace").split("\n")
    rows = [r.rstrip("\r").rsplit("\r", 1)[-1] for r in rows]  # a terminal shows the last \r part
    if rows and rows[-1] == "":
        rows.pop()
    return "\n".join(rows[-lines:])
