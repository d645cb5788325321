"""The mixed load: 8 annotator processes relabel a hot set of samples while a CSV import of `rows`
rows runs and a backup is taken; the outcomes, the store's invariants and p50/p95 latencies.
Shared by tests/reliability/test_load.py (short) and benchmarks/load_bench.py (60 s, 20k rows)."""
from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from core.backup import backup
from core.config import REPO_ROOT, get_settings
from core.store.db import read_session
from core.store.models import Dataset, Sample
from tests.helpers import write_affectnet_csv
from tests.reliability import checks
from tests.reliability.workers import annotate, head_of, seed_store


def annotate_until(queue: Any, barrier: Any, stop: Any, worker: int, ids: list[int], pause_s: float) -> None:
    """Process target: read-the-head-then-edit attempts until `stop` is set (a pause of about
    pause_s between them); the outcomes, each with its wall-clock start `t`, go on `queue`."""
    out: list[dict[str, Any]] = []
    try:
        rng = np.random.default_rng(worker)
        barrier.wait()
        k = 0
        while not stop.is_set():
            t = time.time()
            rec = annotate(worker, 1, ids, seed=1000 * k + 7)[0]
            out.append({**rec, "i": k, "t": t})
            k += 1
            if pause_s:
                time.sleep(pause_s * rng.uniform(0.5, 1.5))
        queue.put(out)
    except BaseException as exc:  # the parent must hear of it rather than wait forever
        queue.put([*out, {"worker": worker, "outcome": "error", "error": repr(exc), "seconds": 0.0, "t": 0.0}])
        raise


def _ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    a = np.array(values) * 1000
    return {"p50_ms": round(float(np.percentile(a, 50)), 1), "p95_ms": round(float(np.percentile(a, 95)), 1),
            "max_ms": round(float(a.max()), 1)}


def _import(csv: Path, dataset: str) -> dict[str, Any]:
    """`import csv` in its own process (as a second CLI or the worker would); timings and output."""
    started = time.time()
    proc = subprocess.run([sys.executable, "-m", "tests.reliability.workers", "import-plain", str(csv), dataset],
                          cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=1800)
    return {"start": started, "end": time.time(), "returncode": proc.returncode, "stderr": proc.stderr[-2000:]}


def run_load(workdir: Path, *, seconds: float = 15.0, rows: int = 5000, annotators: int = 8,
             hot: int = 100, pause_s: float = 0.05, backup_at: float = 0.4) -> dict[str, Any]:
    """Run the load against the store the AFFECTLAB_* environment names; returns its figures and
    every invariant problem found (empty lists when the store stayed whole)."""
    ids = seed_store(hot, dataset="annotated")
    first = {i: head_of(i) for i in ids}
    csv = write_affectnet_csv(workdir / "import", rows, seed=5, subjects=50)
    ctx = mp.get_context("spawn")
    queue, barrier, stop = ctx.Queue(), ctx.Barrier(annotators + 1), ctx.Event()
    procs = [ctx.Process(target=annotate_until, args=(queue, barrier, stop, w, ids, pause_s))
             for w in range(annotators)]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)  # every annotator imported the store code
    t0 = time.time()
    result: dict[str, Any] = {}
    importer = threading.Thread(target=lambda: result.update(imp=_import(csv, "imported")))
    importer.start()
    time.sleep(seconds * backup_at)
    b0 = time.time()
    made = backup(workdir / "backup.db", force=True)
    backup_s = time.time() - b0
    remaining = t0 + seconds - time.time()
    if remaining > 0:
        time.sleep(remaining)
    importer.join(timeout=1800)
    time.sleep(0.5)  # annotators run past the import's end too
    stop.set()
    outcomes = [r for _ in procs for r in queue.get(timeout=300)]
    for p in procs:
        p.join(timeout=60)
    wall = time.time() - t0
    return _figures(result["imp"], made, backup_s, outcomes, ids, first, rows, wall,
                    [p.exitcode for p in procs], workdir / "backup.db")


def _figures(imp: dict, made: dict, backup_s: float, outcomes: list[dict], ids: list[int],
             first: dict[int, int | None], rows: int, wall: float, exitcodes: list[int | None],
             backup_file: Path) -> dict[str, Any]:
    applied = [r for r in outcomes if r["outcome"] == "applied"]
    errors = [r["error"] for r in outcomes if r["outcome"] == "error"]
    during = [r["seconds"] for r in outcomes if imp["start"] <= r["t"] <= imp["end"]]
    with read_session() as s:
        imported = s.scalar(select(func.count()).select_from(Sample).join(Dataset)
                            .where(Dataset.name == "imported"))
    chains = checks.human_chains(ids)
    return {
        "seconds": round(wall, 1), "annotators": len(exitcodes), "hot_samples": len(ids),
        "edits": {"attempts": len(outcomes), "applied": len(applied),
                  "conflicts": sum(r["outcome"] == "conflict" for r in outcomes), "errors": len(errors),
                  "locked": sum("locked" in e for e in errors), "per_s": round(len(outcomes) / wall, 1),
                  **_ms([r["seconds"] for r in outcomes]),
                  "during_import": {"attempts": len(during), **_ms(during)}},
        "import": {"rows": rows, "stored": imported, "returncode": imp["returncode"],
                   "seconds": round(imp["end"] - imp["start"], 1),
                   "rows_per_s": round(rows / max(imp["end"] - imp["start"], 1e-9), 1),
                   "stderr": imp["stderr"] if imp["returncode"] else ""},
        "backup": {"seconds": round(backup_s, 2), "bytes": made["bytes"],
                   "problems": checks.consistency_problems(f"sqlite:///{backup_file}")[:5],
                   "integrity": checks.integrity(backup_file)},
        "problems": {"errors": errors[:5], "exitcodes": [c for c in exitcodes if c != 0],
                     "lost_updates": checks.lost_updates(applied, ids, first)[:5],
                     "consistency": checks.consistency_problems()[:5], "integrity": checks.integrity(),
                     "history_rows_vs_applied": sum(len(c) for c in chains.values()) - len(applied)},
        "db": str(get_settings().db_url).split("///")[-1],
    }
