"""A torch-free stand-in for `python -m core train --run-id N` that keeps the jobs contract.

Run.config: epochs (3), step_s (0.05) per epoch; crash_at (raise after that epoch); hang (ignore
cancelling and SIGTERM); silent (no heartbeat after starting). Every epoch it checks for
cancelling, sleeps, checkpoints and heartbeats; a relaunch resumes from the checkpoint and prints
"resumed from step k". <data_dir>/events.log gets "start <id> <workers alive>" lines.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select, update  # noqa: E402

from core.config import get_settings  # noqa: E402
from core.jobs.status import RunStatus  # noqa: E402
from core.jobs.store import mark_started  # noqa: E402
from core.store.db import read_session, write_session  # noqa: E402
from core.store.models import Run, utcnow  # noqa: E402

CANCELLED, CANCELLING, COMPLETED, FAILED = (RunStatus.CANCELLED, RunStatus.CANCELLING,
                                            RunStatus.SUCCEEDED, RunStatus.FAILED)


def _write(run_id: int, **values) -> str:
    with write_session() as s, s.begin():
        if values:
            s.execute(update(Run).where(Run.id == run_id).values(**values))
        return s.scalar(select(Run.status).where(Run.id == run_id))


def _start(run_id: int) -> dict:
    mark_started(Run, run_id)  # the job process's side of the contract
    with read_session() as s:
        return dict(s.get(Run, run_id).config or {})


def _announce(run_id: int) -> Path:
    """Mark this worker alive and log how many are alive now (created first, then counted)."""
    alive = get_settings().data_dir / "alive"
    alive.mkdir(parents=True, exist_ok=True)
    (mark := alive / str(run_id)).touch()
    with open(get_settings().data_dir / "events.log", "a") as f:
        f.write(f"start {run_id} {len(list(alive.iterdir()))}\n")
    return mark


def train(run_id: int, cfg: dict) -> str:
    epochs, step_s = cfg.get("epochs", 3), cfg.get("step_s", 0.05)
    ckpt = get_settings().models_dir / f"run-{run_id}" / "state.json"
    start = json.loads(ckpt.read_text())["epoch"] if ckpt.exists() else 0
    if start:
        print(f"resumed from step {start}", flush=True)
    for epoch in range(start, epochs):
        if _write(run_id) == CANCELLING and not cfg.get("hang"):
            return CANCELLED
        time.sleep(step_s)
        if cfg.get("crash_at") == epoch + 1:
            raise RuntimeError(f"boom at epoch {epoch + 1}")
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")  # atomic, as the real trainer's checkpoints: a kill -9
        tmp.write_text(json.dumps({"epoch": epoch + 1}))  # never leaves a half-written file
        os.replace(tmp, ckpt)
        print(f"epoch {epoch + 1}/{epochs}", flush=True)
        if not cfg.get("silent"):
            _write(run_id, heartbeat_at=utcnow(), progress={
                "epoch": epoch + 1, "epochs": epochs, "step": epoch + 1, "steps": epochs,
                "eta_s": (epochs - epoch - 1) * step_s})
    _write(run_id, checkpoint_path=str(ckpt), metrics={"resumed_from": start})
    return COMPLETED


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--run-id", type=int, required=True)
    run_id = p.parse_args().run_id
    cfg = _start(run_id)
    if cfg.get("hang"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    mark = _announce(run_id)
    try:
        status = train(run_id, cfg)
    except Exception as exc:
        _write(run_id, status=FAILED, error=repr(exc), finished_at=utcnow())
        return 1
    finally:
        mark.unlink(missing_ok=True)
    _write(run_id, status=status, finished_at=utcnow())
    print("done", status, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
