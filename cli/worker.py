"""Verbs of the job system: `worker` (the scheduler process) and `run-job` (one evaluate job).

`affectlab worker` starts queued training runs and evaluation jobs, detects crashed ones and
enforces cancels, whether or not the app is open; one per store (a file lock). The app starts
one on first use and the Docker start script starts one beside the app.
"""
from typing import Annotated

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer()


@verb(app, "worker", help="run queued training runs and evaluation jobs (one worker per store)")
def worker(
    max_running: Annotated[int, typer.Option(help="training runs at once")] = 1,
    poll: Annotated[float, typer.Option(help="seconds between scheduler ticks")] = 2.0,
    stale_after: Annotated[float, typer.Option(
        help="seconds without a heartbeat after which a run counts as hung")] = 180.0,
    ticks: Annotated[int | None, typer.Option(help="stop after this many ticks (default: run "
                                                   "until SIGTERM / Ctrl-C)")] = None,
    if_idle: Annotated[bool, typer.Option(
        "--if-idle", help="exit quietly (code 0) when another worker already serves the store")] = False,
    json_out: JsonOpt = False,
) -> Result:
    import logging
    import sys

    from core.jobs.scheduler import Scheduler
    from core.jobs.worker import WorkerBusy, run_worker

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("core.jobs").setLevel(logging.INFO)
    scheduler = Scheduler(max_running=max_running, stale_after_s=stale_after)
    try:
        return run_worker(poll_s=poll, scheduler=scheduler, max_ticks=ticks)
    except WorkerBusy as exc:
        if if_idle:
            return {"ticks": 0, "busy": str(exc)}
        raise RuntimeError(str(exc)) from None


@verb(app, "run-job", help="run one queued background job (what the worker starts)")
def run_job(
    job_id: Annotated[int, typer.Option("--job-id", help="Job id")],
    json_out: JsonOpt = False,
) -> Result:
    from training.jobrun import run_job as run

    return run(job_id)
