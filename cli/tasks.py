"""Labelling tasks, agreement and label snapshots: `affectlab agreement`, `task create|list|status|close`,
`snapshot create|list|export|compare` (project modules imported inside the verbs: --help stays fast)."""
from typing import Annotated

import typer

from cli.verb import JsonOpt, Result, verb

app = typer.Typer()
task_app = typer.Typer(no_args_is_help=True)
snapshot_app = typer.Typer(no_args_is_help=True)

DatasetOpt = Annotated[str, typer.Option("--dataset", help="dataset name")]
TaskOpt = Annotated[str, typer.Option("--task", help="task name")]


def _num(value: float | None, fmt: str = "+.3f") -> str:
    return "—" if value is None else format(value, fmt)


def format_agreement(r: Result) -> str:
    """One line per field (alpha, ICC), then the samples people disagree on most."""
    lines = [f"task {r['task']} (k = {r['k']}): {r['samples']} samples labelled by {', '.join(r['annotators'])}",
             f"{'field':24s} {'level':9s} {'alpha':>7s} {'ICC2':>7s} {'units':>6s}"]
    for f in r["fields"]:
        icc = (f["icc"] or {}).get("ICC2")
        lines.append(f"{f['field'][:24]:24s} {f['level']:9s} {_num(f['alpha']):>7s} {_num(icc):>7s} {f['units']:6d}")
    if r["disagreements"]:
        worst = ", ".join(f"#{d['sample_id']} ({d['score']:.2f})" for d in r["disagreements"][:10])
        lines.append(f"most disagreement: {worst}")
    return "\n".join(lines)


@verb(app, "agreement", text=format_agreement, help="inter-annotator agreement of a labelling task per field")
def agreement(dataset: DatasetOpt, task: TaskOpt,
              top: Annotated[int, typer.Option(help="samples with the most disagreement to list")] = 20,
              json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.task_agreement import task_agreement
    from core.store.tasks import get_task

    with read_session() as s:
        return {"dataset": dataset, **task_agreement(s, get_task(s, dataset, task), top=top)}


def format_status(r: Result) -> str:
    lines = [f"task {r['task']}: {r['complete']}/{r['samples']} samples complete, {r['labels']}/{r['needed']} "
             f"labels ({r['done']:.0%}), k = {r['k']}{', blind' if r['blind'] else ''}"
             f"{', closed' if r['closed'] else ''}"]
    lines += [f"  {name}: {p['labelled']} labelled, {p['owed']} owed" for name, p in r["annotators"].items()]
    return "\n".join(lines)


@verb(task_app, "create", text=format_status, help="a task: k independent labels per sample from the annotators")
def create(
    name: Annotated[str, typer.Argument(help="task name (unique in the dataset)")],
    dataset: DatasetOpt,
    k: Annotated[int, typer.Option("-k", "--k", help="labels each sample needs, from different people")] = 3,
    annotators: Annotated[str, typer.Option(help="comma-separated names allowed to label (default: anyone)")] = "",
    blind: Annotated[bool, typer.Option("--blind/--not-blind", help="hide others' labels and the model's "
                                                                     "prediction from each annotator")] = True,
    split: Annotated[str | None, typer.Option(help="only the samples of this split")] = None,
    json_out: JsonOpt = False,
) -> Result:
    from core.store.db import write_session
    from core.store.tasks import create_task, task_progress

    with write_session() as s, s.begin():
        t = create_task(s, dataset, name, k=k, annotators=[a for a in annotators.split(",") if a.strip()],
                        blind=blind, split=split)
        return {"dataset": dataset, **task_progress(s, t)}


@verb(task_app, "list", help="labelling tasks with their progress")
def list_(dataset: Annotated[str | None, typer.Option("--dataset", help="only this dataset")] = None,
          json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.tasks import list_tasks

    with read_session() as s:
        return {"tasks": list_tasks(s, dataset)}


@verb(task_app, "status", text=format_status, help="progress of a task, per annotator")
def status(name: Annotated[str, typer.Argument(help="task name")], dataset: DatasetOpt,
           json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.tasks import get_task, task_progress

    with read_session() as s:
        return {"dataset": dataset, **task_progress(s, get_task(s, dataset, name))}


@verb(task_app, "close", text=format_status, help="hand out no more assignments (labels and agreement stay)")
def close(name: Annotated[str, typer.Argument(help="task name")], dataset: DatasetOpt,
          json_out: JsonOpt = False) -> Result:
    from core.store.db import write_session
    from core.store.tasks import close_task, get_task, task_progress

    with write_session() as s, s.begin():
        task = get_task(s, dataset, name)
        close_task(s, task)
        return {"dataset": dataset, **task_progress(s, task)}


@verb(snapshot_app, "create", help="freeze the dataset's current labels under a name (immutable)")
def snapshot_create(dataset: DatasetOpt,
                    name: Annotated[str | None, typer.Argument(help="snapshot name (default: dataset@time)")] = None,
                    note: Annotated[str, typer.Option(help="what the snapshot is for")] = "",
                    json_out: JsonOpt = False) -> Result:
    from core.store.db import write_session
    from core.store.snapshots import create_snapshot

    with write_session() as s, s.begin():
        snap = create_snapshot(s, dataset, name, note=note)
        return {"dataset": dataset, "snapshot": snap.name, "samples": snap.samples, "labelled": snap.labelled,
                "fingerprint": snap.fingerprint}


@verb(snapshot_app, "list", help="snapshots with their sizes")
def snapshot_list(dataset: Annotated[str | None, typer.Option("--dataset", help="only this dataset")] = None,
                  json_out: JsonOpt = False) -> Result:
    from core.store.db import read_session
    from core.store.snapshots import list_snapshots

    with read_session() as s:
        return {"snapshots": list_snapshots(s, dataset)}


@verb(snapshot_app, "export", help="write a snapshot's labels to FILE.csv or FILE.json")
def snapshot_export(
    name: Annotated[str, typer.Argument(help="snapshot name")], dataset: DatasetOpt,
    to: Annotated[str, typer.Option("--to", help="FILE.csv or FILE.json")],
    force: Annotated[bool, typer.Option("--force", help="overwrite FILE (never the store's own files)")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from core.store.db import read_session
    from core.store.snapshots import export_snapshot

    with read_session() as s:
        return export_snapshot(s, dataset, name, to, force=force)


def format_compare(r: Result) -> str:
    """The verdict counts, the accuracy against each snapshot, then the changed samples."""
    acc = " · ".join(f"accuracy vs {name} {_num(r[key], '.3f')}"
                     for name, key in ((r["trained_on"], "accuracy_trained_on"), (r["later"], "accuracy_later")))
    lines = [f"run {r['run']} trained on {r['trained_on']}; {r['changed']} of {r['compared']} labels changed in "
             f"{r['later']} · {acc}", ", ".join(f"{v}: {n}" for v, n in r["verdicts"].items())]
    lines += [f"#{c['sample_id']}: {c['before']} -> {c['after']} (predicted {c['predicted']}: {c['verdict']})"
              for c in r["samples"][:20]]
    return "\n".join(lines)


@verb(snapshot_app, "compare", text=format_compare,
      help="a run's predictions against the snapshot it trained on and a later one (was the label wrong?)")
def snapshot_compare(
    later: Annotated[str, typer.Argument(help="the later snapshot's name")],
    run: Annotated[int, typer.Option("--run", help="run id (its predictions and the snapshot it trained on)")],
    json_out: JsonOpt = False,
) -> Result:
    from core.store.db import read_session
    from core.store.snapshot_compare import compare_with_snapshot

    with read_session() as s:
        return compare_with_snapshot(s, run, later)
