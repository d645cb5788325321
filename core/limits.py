"""Per-identity limits on expensive actions: concurrent analyses, an analysis rate budget, queued jobs.

A hosted instance shares one machine among its visitors; each identity (a signed-in name, else the
browser session key the UI passes) may run at most AFFECTLAB_LIMIT_CONCURRENT analyses at once
(default 1) and AFFECTLAB_LIMIT_ANALYSES per AFFECTLAB_LIMIT_WINDOW_S seconds (a token bucket,
default 20 per 600 s), and keep at most AFFECTLAB_LIMIT_JOBS runs and jobs (training, evaluation, video analysis)
queued or running (default 2). Admins (analyses) and the local operator (jobs) are unlimited unless
AFFECTLAB_LIMIT_ADMINS=on. A value of 0 switches that limit off.
"""
from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import Identity, Role, default_identity
from core.jobs.status import CANCELLABLE
from core.store.models import Job, Run


class LimitExceeded(RuntimeError):
    """An expensive action over the caller's budget; `retry_after_s` says how long to wait."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Limits:
    concurrent: int = 1  # analyses at once per identity; 0 = unlimited
    analyses: int = 20  # analyses per window per identity; 0 = unlimited
    window_s: float = 600.0
    jobs: int = 2  # queued + running training/evaluation rows per identity; 0 = unlimited
    admins: bool = False  # whether admins (analyses) and the local operator (jobs) are limited too


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number >= 0") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r}: expected a whole number >= 0")
    return value


def limits_from_env() -> Limits:
    """The limits AFFECTLAB_LIMIT_* set (the defaults of Limits for those unset)."""
    return Limits(concurrent=_int_env("AFFECTLAB_LIMIT_CONCURRENT", 1),
                  analyses=_int_env("AFFECTLAB_LIMIT_ANALYSES", 20),
                  window_s=float(max(1, _int_env("AFFECTLAB_LIMIT_WINDOW_S", 600))),
                  jobs=_int_env("AFFECTLAB_LIMIT_JOBS", 2),
                  admins=os.environ.get("AFFECTLAB_LIMIT_ADMINS", "").strip().lower() in ("on", "1", "true"))


def visitor_key(identity: Identity | None, session_key: str | None = None) -> str:
    """Whose budget: a signed-in identity's name, else the browser session's key, else 'anonymous'."""
    who = identity or default_identity()
    if who.authenticated or not session_key:
        return f"user:{who.name}"
    return f"session:{session_key}"


def _wait_text(seconds: float) -> str:
    s = max(1, math.ceil(seconds))
    if s < 120:
        return f"{s} s"
    return f"{s // 60} min" + (f" {s % 60} s" if s % 60 else "")


MAX_KEYS = 10_000  # budgets kept before those of visitors idle for a whole window are dropped


class AnalysisLimiter:
    """Concurrency cap and token bucket per visitor key, in this process (thread-safe)."""

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits, self._clock = limits, clock
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # key: (tokens, when)

    @property
    def limits(self) -> Limits:
        return self._limits or limits_from_env()

    def _take(self, key: str, lim: Limits) -> None:
        if lim.concurrent and self._running.get(key, 0) >= lim.concurrent:
            what = "1 analysis is" if lim.concurrent == 1 else f"{lim.concurrent} analyses are"
            raise LimitExceeded(f"{what} already running for you: wait for it to finish, then try again")
        if lim.analyses:
            now, rate = self._clock(), lim.analyses / lim.window_s
            tokens, then = self._buckets.get(key, (float(lim.analyses), now))
            tokens = min(float(lim.analyses), tokens + (now - then) * rate)
            if tokens < 1.0:
                wait = (1.0 - tokens) / rate
                self._buckets[key] = (tokens, now)
                raise LimitExceeded(f"analysis budget spent ({lim.analyses} per {_wait_text(lim.window_s)}): "
                                    f"try again in {_wait_text(wait)}", retry_after_s=wait)
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_KEYS:  # forget visitors whose budget has refilled
                full = lim.window_s
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full or k == key}
        self._running[key] = self._running.get(key, 0) + 1

    @contextmanager
    def analysis(self, identity: Identity | None = None, session_key: str | None = None) -> Iterator[None]:
        """Hold one analysis slot of this visitor for the block; LimitExceeded (with the wait) if over."""
        lim, who = self.limits, identity or default_identity()
        if who.role >= Role.ADMIN and not lim.admins:
            yield
            return
        key = visitor_key(who, session_key)
        with self._lock:
            self._take(key, lim)
        try:
            yield
        finally:
            with self._lock:
                left = self._running.get(key, 1) - 1
                if left > 0:
                    self._running[key] = left
                else:
                    self._running.pop(key, None)


ANALYSES = AnalysisLimiter()  # the process-wide limiter the web pages and the Gradio demo share


def submitter(identity: Identity | None, session_key: str | None = None) -> str | None:
    """The name a run/job records as its submitter, whose cap it counts against: a signed-in name;
    an anonymous visitor's browser session ("session:<key>"); None for the local operator (not
    counted unless AFFECTLAB_LIMIT_ADMINS=on, then its name)."""
    who = identity or default_identity()
    if who.authenticated:
        return who.name
    if who.role < Role.ADMIN and session_key:
        return f"session:{session_key}"
    return who.name if limits_from_env().admins or who.role < Role.ADMIN else None


def check_job_cap(s: Session, identity: Identity | None, session_key: str | None = None) -> str | None:
    """The name to record as submitter of a new run/job (see submitter); LimitExceeded if that name
    already has AFFECTLAB_LIMIT_JOBS runs and jobs queued or running."""
    name, lim = submitter(identity, session_key), limits_from_env()
    if name is not None and lim.jobs:
        active = [st.value for st in CANCELLABLE]
        held = sum(s.scalar(select(func.count()).select_from(t)
                            .where(t.submitted_by == name, t.status.in_(active))) or 0 for t in (Run, Job))
        if held >= lim.jobs:
            who = "you" if name.startswith("session:") else name
            raise LimitExceeded(f"{who} already {'have' if who == 'you' else 'has'} {held} jobs queued or "
                                f"running (limit {lim.jobs}): wait for one to finish or cancel one")
    return name
