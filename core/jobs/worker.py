"""The worker: one long-running process per store that ticks the scheduler, with or without a page.

Single instance by an OS file lock (fcntl.flock) in the data dir: the kernel drops it when the
worker dies, even by SIGKILL, so the next worker takes over at once. The lock file also holds the
worker's identity (pid, create time, command line) so others can see, or stop, the live one.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from core.config import REPO_ROOT, get_settings
from core.jobs.proc import ProcIdentity, own_identity, process_of, spawn_detached, terminate
from core.jobs.scheduler import Scheduler

log = logging.getLogger(__name__)
WORKER_ARGV = (sys.executable, "-m", "core", "worker", "--if-idle")
# a worker started on demand (by a page or `train --queue`) ends after this long with nothing
# queued or running; the next use starts it again. `affectlab worker` alone runs until stopped.
ON_DEMAND_IDLE_EXIT_S = 120.0
_STARTED: dict[Path, ProcIdentity] = {}  # lock path -> the worker this process last started


class WorkerBusy(RuntimeError):
    """Another worker holds the lock of this store."""


def lock_path(db_url: str | None = None) -> Path:
    """<data dir>/jobs/worker-<hash of the DB URL>.lock: one worker per store."""
    settings = get_settings()
    key = hashlib.sha1((db_url or settings.db_url).encode()).hexdigest()[:12]
    return settings.data_dir / "jobs" / f"worker-{key}.lock"


@contextmanager
def worker_lock(db_url: str | None = None) -> Iterator[IO[str]]:
    """Hold the store's worker lock (WorkerBusy if taken), with our identity written in it."""
    path = lock_path(db_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+")
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerBusy(f"another worker holds {path}: {_read(path) or 'starting'}") from None
        f.seek(0)
        f.truncate()
        f.write(json.dumps(own_identity().to_dict()))
        f.flush()
        try:
            yield f
        finally:
            f.truncate(0)  # no longer the worker, even if this process lives on
    finally:
        f.close()  # closing the descriptor releases the lock


def run_worker(*, max_running: int = 1, poll_s: float = 2.0, db_url: str | None = None,
               stop: threading.Event | None = None, scheduler: Scheduler | None = None,
               max_ticks: int | None = None, idle_exit_s: float | None = None) -> dict[str, Any]:
    """Tick the scheduler every poll_s until stopped: SIGTERM/SIGINT, `stop` set, max_ticks,
    nothing queued or running for idle_exit_s (None = never), its SQLite store or its lock file
    deleted.

    Raises WorkerBusy when another worker serves this store. Job processes outlive the worker;
    the next worker adopts them (they are found by pid + create time + command line).
    Returns {"ticks", "launched", "crashed", "cancelled", "stopped"} (ids of runs and jobs).
    """
    scheduler = scheduler or Scheduler(max_running=max_running, db_url=db_url)
    url = db_url or scheduler.db_url or get_settings().db_url
    stop = stop or threading.Event()
    total: dict[str, Any] = {"ticks": 0, "launched": [], "crashed": [], "cancelled": []}
    busy_at = time.monotonic()
    with worker_lock(url) as lock, _stop_on_signals(stop):
        log.info("worker %d serving %s", os.getpid(), lock_path(url))
        while not stop.is_set():
            try:
                out = scheduler.tick()
            except Exception:  # a busy or briefly unreachable store must not end the worker
                log.exception("worker tick failed")
                out = {}
            if _tally(total, out) or not out:
                busy_at = time.monotonic()
            if max_ticks is not None and total["ticks"] >= max_ticks:
                total["stopped"] = "ticks"
            elif idle_exit_s is not None and time.monotonic() - busy_at > idle_exit_s:
                total["stopped"] = "idle"
            elif _store_gone(url) or _lock_replaced(lock, lock_path(url)):
                total["stopped"] = "store gone"
            if "stopped" in total:
                break
            stop.wait(poll_s)
    total.setdefault("stopped", "signal")
    log.info("worker %d stopped: %s", os.getpid(), total["stopped"])
    return total


def _tally(total: dict[str, Any], out: dict[str, Any]) -> bool:
    """Add one tick's ids to total; True if anything was queued or active."""
    total["ticks"] += 1
    for kind, summary in out.items():
        for key in ("launched", "crashed", "cancelled"):
            total[key] += [f"{kind[:-1]} {i}" for i in summary[key]]
            if summary[key]:
                log.info("%s %s: %s", kind, key, summary[key])
    return any(summary["active"] or summary["queued"] for summary in out.values())


def _lock_replaced(lock: IO[str], path: Path) -> bool:
    """The lock file was deleted or replaced (its data dir removed or recreated): another
    worker may lock the new file, so this one must end."""
    try:
        return os.stat(path).st_ino != os.fstat(lock.fileno()).st_ino
    except FileNotFoundError:
        return True


def _store_gone(url: str) -> bool:
    """A SQLite store whose file was deleted (e.g. a test's temporary store)."""
    if not url.startswith("sqlite") or ":memory:" in url:
        return False
    path = url.split("///", 1)[-1]
    return bool(path) and not Path(path).exists()


def worker_identity(db_url: str | None = None) -> ProcIdentity | None:
    """The live worker of this store, if any (checked with psutil, not just the file)."""
    return _live(ProcIdentity.from_dict(_read(lock_path(db_url))))


def ensure_worker(*, command: Sequence[str] | None = None, db_url: str | None = None,
                  idle_exit_s: float | None = None) -> dict[str, Any]:
    """Start a detached worker unless one is alive; idempotent and cheap to call on every page
    run. Two callers at once may both start one: the second exits on the lock. idle_exit_s:
    the worker ends after that long with nothing queued or running (the next use restarts it)."""
    ident = worker_identity(db_url) or _live(_STARTED.get(lock_path(db_url)))
    if ident is not None:  # serving, or started by this process and still taking the lock
        return {"started": False, "pid": ident.pid}
    settings = get_settings()
    env = {**os.environ, "AFFECTLAB_DB_URL": db_url or settings.db_url,
           "AFFECTLAB_DATA_DIR": str(settings.data_dir), "PYTHONUNBUFFERED": "1"}
    log_path = lock_path(db_url).with_suffix(".log")
    argv = list(command or WORKER_ARGV)
    if idle_exit_s is not None:
        argv += ["--idle-exit", f"{idle_exit_s:g}"]
    started = _STARTED[lock_path(db_url)] = spawn_detached(argv, log_path=log_path, env=env,
                                                           cwd=REPO_ROOT)
    return {"started": True, "pid": started.pid}



def stop_worker(*, db_url: str | None = None, timeout_s: float = 10.0) -> bool:
    """SIGTERM the live worker of this store (its job processes keep running); True once gone."""
    ident = worker_identity(db_url)
    return terminate(ident, term_s=timeout_s) if ident is not None else True


def wait_for_worker(*, db_url: str | None = None, timeout_s: float = 30.0) -> ProcIdentity:
    """Block until a worker serves this store (e.g. after ensure_worker); its identity."""
    deadline = time.monotonic() + timeout_s
    while (ident := worker_identity(db_url)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no worker took {lock_path(db_url)} within {timeout_s:g}s")
        time.sleep(0.1)
    return ident


def _live(ident: ProcIdentity | None) -> ProcIdentity | None:
    return ident if process_of(ident) is not None else None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text() or "null")
    except (OSError, ValueError):
        return None


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set `stop` (main thread only; elsewhere the caller's event is enough)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
