"""8 annotators (threads, then spawned processes) edit 20 shared samples of one SQLite file at once:
every edit either applies or is a clean conflict, no update is lost, no "database is locked"."""
from __future__ import annotations

import multiprocessing as mp
import threading
import time

import numpy as np

from tests.reliability import checks
from tests.reliability.workers import annotate, annotate_into, head_of, seed_store

WORKERS, SAMPLES = 8, 20
THREAD_EDITS, PROCESS_EDITS = 500, 150


def _report(kind: str, outcomes: list[dict], seconds: float) -> dict:
    applied = [r for r in outcomes if r["outcome"] == "applied"]
    latency = np.array([r["seconds"] for r in outcomes]) * 1000
    figures = {"attempts": len(outcomes), "applied": len(applied),
               "conflicts": sum(r["outcome"] == "conflict" for r in outcomes),
               "errors": sum(r["outcome"] == "error" for r in outcomes),
               "attempts_per_s": round(len(outcomes) / seconds, 1),
               "p50_ms": round(float(np.percentile(latency, 50)), 2),
               "p95_ms": round(float(np.percentile(latency, 95)), 2),
               "max_ms": round(float(latency.max()), 2), "seconds": round(seconds, 2)}
    print(f"\n{kind}: {figures}")
    return figures


def _verify(outcomes: list[dict], ids: list[int], first: dict[int, int | None], edits: int) -> dict:
    errors = [r["error"] for r in outcomes if r["outcome"] == "error"]
    assert errors == [], errors[:5]  # any OperationalError ("database is locked") is a failure
    assert len(outcomes) == WORKERS * edits
    applied = [r for r in outcomes if r["outcome"] == "applied"]
    assert checks.lost_updates(applied, ids, first) == []
    assert checks.consistency_problems() == []
    assert checks.integrity() == "ok"
    chains = checks.human_chains(ids)
    assert sum(len(c) for c in chains.values()) == len(applied)  # conflicts left nothing behind
    return {"lost_updates": 0, "locked_errors": 0, "integrity": "ok"}


def test_eight_threads_edit_overlapping_samples(env):
    ids = seed_store(SAMPLES)
    first = {i: head_of(i) for i in ids}
    barrier, results = threading.Barrier(WORKERS), [[] for _ in range(WORKERS)]

    def work(w: int) -> None:
        results[w] = annotate(w, THREAD_EDITS, ids, seed=1, barrier=barrier)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = [r for rs in results for r in rs]
    figures = _report("threads", outcomes, time.perf_counter() - t0)
    _verify(outcomes, ids, first, THREAD_EDITS)
    assert figures["applied"] > 0 and figures["conflicts"] > 0  # the overlap really contended


def test_eight_spawned_processes_edit_overlapping_samples(env):
    ids = seed_store(SAMPLES)
    first = {i: head_of(i) for i in ids}
    ctx = mp.get_context("spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(WORKERS + 1)
    procs = [ctx.Process(target=annotate_into, args=(queue, barrier, w, PROCESS_EDITS, ids, 2))
             for w in range(WORKERS)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)  # every child imported the store code: start the clock
    t0 = time.perf_counter()
    outcomes = [r for _ in procs for r in queue.get(timeout=120)]
    seconds = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    figures = _report("processes", outcomes, seconds)
    _verify(outcomes, ids, first, PROCESS_EDITS)
    assert figures["applied"] > 0 and figures["conflicts"] > 0
