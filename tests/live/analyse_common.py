"""Shared bits of the analysis-job tests: a generated face video and a worker thread on the test store."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.live.common import cached_asset


def face_video(out: Path, *, loops: int) -> Path:
    """single_face.mp4 (2.4 s, 30 fps) played `loops` times at 320x180: a real face throughout."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", str(loops - 1),
                    "-i", str(cached_asset("single_face.mp4")), "-an", "-vf", "scale=320:180",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)], check=True, timeout=120)
    return out


@contextmanager
def worker_thread(*, grace_s: float = 30.0) -> Iterator[None]:
    """The real worker (scheduler ticks every 0.2 s, job processes `python -m core run-job`) in a
    thread; stopped afterwards, and any job process it left is ended."""
    from core.jobs.proc import ProcIdentity, terminate
    from core.jobs.scheduler import Scheduler
    from core.jobs.worker import run_worker
    from core.store.db import read_session
    from core.store.models import Job

    stop = threading.Event()
    thread = threading.Thread(target=run_worker, kwargs={
        "poll_s": 0.2, "stop": stop, "scheduler": Scheduler(grace_s=grace_s)}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)
        with read_session() as s:
            procs = [j.proc for j in s.query(Job).all()]
        for proc in procs:
            terminate(ProcIdentity.from_dict(proc), term_s=0.5)


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
