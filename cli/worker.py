"""Verbs of the job system: `worker` (the scheduler), `jobs`, `cancel`, `resume`, `run-job`.

`affectlab worker` starts queued training runs and evaluation jobs, detects crashed ones and
enforces cancels, whether or not the app is open; one per store (a file lock). The app starts
one on first use and the Docker start script starts one beside the app.
"""
from typing import Annotated

import typer

from cli.progress import log_to_stderr
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
    idle_exit: Annotated[float | None, typer.Option(
        help="exit after this many seconds with nothing queued or running")] = None,
    if_idle: Annotated[bool, typer.Option(
        "--if-idle", help="exit quietly (code 0) when another worker already serves the store")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from core.jobs.scheduler import Scheduler
    from core.jobs.worker import WorkerBusy, run_worker

    log_to_stderr("core.jobs")
    scheduler = Scheduler(max_running=max_running, stale_after_s=stale_after)
    try:
        return run_worker(poll_s=poll, scheduler=scheduler, max_ticks=ticks, idle_exit_s=idle_exit)
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


def _jobs_text(result: Result) -> str:
    lines = [f"worker: {'pid ' + str(result['worker_pid']) if result['worker_pid'] else 'not running'}"]
    for r in result["runs"]:
        note = r["stop_reason"] or ((r["error"] or "").splitlines() or [""])[0][:100]
        lines.append(f"run {r['id']:>4}  {r['status']:<10}  {r['name']}" + (f"  ({note})" if note else ""))
    return "\n".join(lines)


@verb(app, "jobs", text=_jobs_text, help="list training runs and whether the worker runs")
def jobs(
    limit: Annotated[int, typer.Option(help="newest runs to list")] = 20,
    json_out: JsonOpt = False,
) -> Result:
    from core.jobs.store import list_runs
    from core.jobs.worker import worker_identity

    ident = worker_identity()
    runs = [{k: r[k] for k in ("id", "name", "status", "stop_reason", "error", "created_at")}
            for r in list_runs(limit=limit)]
    return {"worker_pid": ident.pid if ident else None, "runs": runs}


@verb(app, "cancel", help="cancel a queued or running training run")
def cancel(
    run: Annotated[int, typer.Option(help="Run id")],
    json_out: JsonOpt = False,
) -> Result:
    from core.jobs.store import cancel as cancel_run

    status = cancel_run(run)
    if status is None:
        raise LookupError(f"no run with id {run}")
    return {"run_id": run, "status": str(status)}


@verb(app, "resume", help="queue a failed or cancelled run again (it continues from its checkpoint)")
def resume(
    run: Annotated[int, typer.Option(help="Run id")],
    json_out: JsonOpt = False,
) -> Result:
    from core.jobs.store import resume as resume_run
    from core.jobs.worker import ON_DEMAND_IDLE_EXIT_S, ensure_worker

    resume_run(run)
    worker = ensure_worker(idle_exit_s=ON_DEMAND_IDLE_EXIT_S)
    return {"run_id": run, "status": "queued", "worker_pid": worker["pid"]}
