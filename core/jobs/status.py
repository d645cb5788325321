"""RunStatus: the one set of states a training run or a background job moves through."""
from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Stored as its value in `runs.status` / `jobs.status` (String(12))."""
    QUEUED = "queued"  # waiting for the worker
    STARTING = "starting"  # claimed by the worker and spawned; the job process moves it on
    RUNNING = "running"
    CANCELLING = "cancelling"  # cancel asked; the job process (or the worker) ends it
    SUCCEEDED = "succeeded"  # an early stop is a success with `stop_reason` set
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (RunStatus.STARTING, RunStatus.RUNNING, RunStatus.CANCELLING)  # a process may be alive
FINAL = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
RESUMABLE = (RunStatus.FAILED, RunStatus.CANCELLED)
CANCELLABLE = (RunStatus.QUEUED, *ACTIVE)


class JobCancelled(Exception):
    """Raised by a job's own work when it sees its cancel: the job ends as cancelled, not failed."""
