"""The OS side of jobs, with psutil: spawn detached, prove a pid is ours, stop a process tree.

A job process is identified by pid + create time + command line, recorded when it starts. A
pid whose process has another create time or command line is a reused pid: never signalled
(a create time matches only the very process it was read from).
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

CREATE_TIME_TOLERANCE_S = 0.05  # psutil derives create_time from boot time + ticks
_CHILDREN: dict[int, subprocess.Popen] = {}  # processes this one spawned, reaped by reap()


@dataclass(frozen=True)
class ProcIdentity:
    """What proves a pid is still the process we started."""
    pid: int
    create_time: float
    cmdline: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "create_time": self.create_time, "cmdline": list(self.cmdline)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> ProcIdentity | None:
        if not d or not d.get("pid") or d.get("create_time") is None or not d.get("cmdline"):
            return None
        return cls(int(d["pid"]), float(d["create_time"]), [str(a) for a in d["cmdline"]])


def identify(pid: int) -> ProcIdentity | None:
    """The identity of a running pid now (None if it is gone or a zombie)."""
    try:
        p = psutil.Process(pid)
        with p.oneshot():
            if p.status() == psutil.STATUS_ZOMBIE:
                return None
            return ProcIdentity(pid, p.create_time(), p.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def own_identity() -> ProcIdentity:
    ident = identify(os.getpid())
    assert ident is not None
    return ident


def process_of(ident: ProcIdentity | None) -> psutil.Process | None:
    """The live process with exactly this identity, else None (gone, zombie, or pid reused)."""
    if ident is None:
        return None
    reap()
    try:
        p = psutil.Process(ident.pid)
        with p.oneshot():
            if p.status() == psutil.STATUS_ZOMBIE:
                _collect(ident.pid)
                return None
            same = (abs(p.create_time() - ident.create_time) <= CREATE_TIME_TOLERANCE_S
                    and same_command(_cmdline(p), ident.cmdline))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return p if same else None


def same_command(now: list[str], recorded: list[str]) -> bool:
    """Whether a process's command line is the one recorded: equal, or, for `python -m MOD ...`
    (which may re-exec itself as another module, e.g. `-m core` -> `-m cli`), ending in the
    same arguments after the module."""
    if now == recorded:
        return True
    if "-m" not in recorded[:-1]:
        return False
    tail = recorded[len(recorded) - recorded[::-1].index("-m") + 1:]
    return bool(tail) and now[-len(tail):] == tail and "-m" in now


def is_alive(ident: ProcIdentity | None) -> bool:
    return process_of(ident) is not None


def spawn_detached(argv: Sequence[str], *, log_path: Path, env: Mapping[str, str], cwd: Path
                   ) -> ProcIdentity:
    """Start argv in a new session (its own process group), output appended to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"--- {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC: {shlex.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, cwd=cwd, env=dict(env),
                                start_new_session=True)
    _CHILDREN[proc.pid] = proc
    try:  # the command line is the argv we gave (read back it can still be empty: mid-exec)
        return ProcIdentity(proc.pid, psutil.Process(proc.pid).create_time(), list(argv))
    except psutil.NoSuchProcess:  # exited at once: an identity nothing will ever match
        return ProcIdentity(proc.pid, 0.0, list(argv))


def terminate(ident: ProcIdentity | None, *, term_s: float = 2.0, kill_s: float = 5.0) -> bool:
    """SIGTERM the process, its group and its descendants; SIGKILL what is left after term_s.

    Signals go only to a pid that is provably ours (process_of) and to the descendants and
    process group it leads while it is; a stranger reusing the pid is never touched. True once
    nothing of ours is left (also when it was already gone), False if it survived SIGKILL.
    """
    p = process_of(ident)
    if p is None:
        return True
    try:
        tree = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return True
    for sig, wait_s in ((signal.SIGTERM, term_s), (signal.SIGKILL, kill_s)):
        if process_of(ident) is not None and (group := _own_group(p)) is not None:
            _killpg(group, sig)  # also reaches group members that were re-parented
        for q in tree:
            try:
                q.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        _, tree = psutil.wait_procs(tree, timeout=wait_s)
        reap()
        if not tree:
            return True
    return False


def reap() -> None:
    """Collect the exit status of finished children this process spawned (no zombies)."""
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


def _cmdline(p: psutil.Process, tries: int = 5) -> list[str]:
    """p's command line; a process caught in exec shows an empty one for a moment."""
    for _ in range(tries):
        if cmd := p.cmdline():
            return cmd
        time.sleep(0.01)
    return []


def _own_group(p: psutil.Process) -> int | None:
    """p's process group when p leads it (we start jobs with start_new_session), else None."""
    try:
        pgid = os.getpgid(p.pid)
    except ProcessLookupError:
        return None
    return pgid if pgid == p.pid and pgid != os.getpgrp() else None


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _collect(pid: int) -> None:
    """Reap a zombie child of ours (a tracked Popen or an untracked child)."""
    proc = _CHILDREN.pop(pid, None)
    if proc is not None:
        proc.poll()
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
