"""Labelling tasks: k independent labels per sample from named annotators, blind or not.

An annotator's queue ("my assignments") holds the task's samples they have not labelled that
still have fewer than k labels from different people; a sample is never handed to the same
person twice. A task label is an ordinary append-only human annotation (labels.edit_label,
schema checks included) plus a `task_labels` row naming the task, which is what the consensus
rule (core/store/consensus.py) works on. The blind editor view (`assignment_view`) hides the
sample's current label, other people's labels and the model's prediction. An undone task
label still counts as given for the queue (its value leaves the consensus).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import Identity, Role, recorded_name, require
from core.store.current import FIELDS, refresh_current
from core.store.datasets import require_dataset
from core.store.labels import ConflictError, LabelView, edit_label, get_or_create_annotator, label_view
from core.store.models import Annotation, Annotator, Dataset, Sample, utcnow
from core.store.models_tasks import LabelTask, TaskLabel, TaskSample

CONFLICT_TRIES = 3  # another writer moved the sample's head between our read and our save


class TaskError(ValueError):
    """A task that cannot be created, or a label the task does not accept (names the reason)."""


def create_task(session: Session, dataset: str, name: str, *, k: int, annotators: Sequence[str] = (),
                blind: bool = True, split: str | None = None, sample_ids: Sequence[int] | None = None,
                note: str = "", identity: Identity | None = None) -> LabelTask:
    """A task over the dataset's samples (those of `split`, or the given ids); admins only."""
    who = require(identity, Role.ADMIN, "creating a labelling task")
    ds = require_dataset(session, dataset)
    name, names = name.strip(), list(dict.fromkeys(a.strip() for a in annotators if a.strip()))
    if not 1 <= len(name) <= 200:
        raise TaskError("task name must be 1 to 200 characters")
    if k < 1:
        raise TaskError(f"k must be at least 1, got {k}")
    if names and k > len(names):
        raise TaskError(f"k = {k} labels per sample needs at least {k} annotators, got {len(names)}")
    if session.scalar(select(LabelTask.id).where(LabelTask.dataset_id == ds.id, LabelTask.name == name)):
        raise TaskError(f"dataset {ds.name!r} already has a task named {name!r}")
    stmt = select(Sample.id).where(Sample.dataset_id == ds.id).order_by(Sample.id)
    if split:
        stmt = stmt.where(Sample.split == split)
    ids = list(session.scalars(stmt))
    if sample_ids is not None:
        wanted = set(sample_ids)
        missing = sorted(wanted - set(ids))
        if missing:
            raise TaskError(f"samples {missing[:10]} are not in dataset {ds.name!r}"
                            + (f" split {split!r}" if split else ""))
        ids = [i for i in ids if i in wanted]
    if not ids:
        raise TaskError(f"no samples in dataset {ds.name!r}" + (f" split {split!r}" if split else ""))
    filters = {"split": split} if split else {}
    if sample_ids is not None:
        filters["ids"] = len(ids)
    task = LabelTask(dataset_id=ds.id, name=name, k=k, blind=blind, annotators=names,
                     filters=filters or None, created_by=who.name, note=note)
    session.add(task)
    session.flush()
    conn = session.connection()
    for i in range(0, len(ids), 20000):
        conn.execute(TaskSample.__table__.insert(), [{"task_id": task.id, "sample_id": s} for s in ids[i:i + 20000]])
    return task


def get_task(session: Session, dataset: str, name: str) -> LabelTask:
    ds = require_dataset(session, dataset)
    task = session.scalar(select(LabelTask).where(LabelTask.dataset_id == ds.id, LabelTask.name == name))
    if task is None:
        known = session.scalars(select(LabelTask.name).where(LabelTask.dataset_id == ds.id)).all()
        raise LookupError(f"dataset {ds.name!r} has no task named {name!r} (known: {', '.join(known) or 'none'})")
    return task


def close_task(session: Session, task: LabelTask, *, identity: Identity | None = None) -> None:
    """No more assignments are handed out; labels and agreement stay."""
    require(identity, Role.ADMIN, "closing a labelling task")
    task.closed_at = task.closed_at or utcnow()


def _label_counts(session: Session, task_id: int) -> dict[int, int]:
    """sample id -> how many different annotators labelled it for the task."""
    return dict(session.execute(
        select(TaskLabel.sample_id, func.count(func.distinct(TaskLabel.annotator_id)))
        .where(TaskLabel.task_id == task_id).group_by(TaskLabel.sample_id)).all())


def _annotator_id(session: Session, name: str) -> int | None:
    return session.scalar(select(Annotator.id).where(Annotator.name == name.strip()))


def _check_member(task: LabelTask, annotator: str) -> None:
    if task.annotators and annotator not in task.annotators:
        raise TaskError(f"{annotator!r} is not an annotator of task {task.name!r} "
                        f"({', '.join(task.annotators)})")


def my_queue(session: Session, task: LabelTask, annotator: str, *, limit: int = 200,
             identity: Identity | None = None) -> list[int]:
    """Sample ids the annotator still owes: not labelled by them, fewer than k labels; samples
    closest to k first (finished sooner), then in id order. Empty for a closed task."""
    annotator = recorded_name(identity, annotator)
    _check_member(task, annotator)
    if task.closed_at is not None:
        return []
    me = _annotator_id(session, annotator)
    counts = select(TaskLabel.sample_id, func.count(func.distinct(TaskLabel.annotator_id)).label("n")
                    ).where(TaskLabel.task_id == task.id).group_by(TaskLabel.sample_id).subquery()
    n = func.coalesce(counts.c.n, 0)
    stmt = (select(TaskSample.sample_id).outerjoin(counts, counts.c.sample_id == TaskSample.sample_id)
            .where(TaskSample.task_id == task.id, n < task.k).order_by(n.desc(), TaskSample.sample_id))
    if me is not None:
        mine = select(TaskLabel.sample_id).where(TaskLabel.task_id == task.id, TaskLabel.annotator_id == me)
        stmt = stmt.where(TaskSample.sample_id.not_in(mine))
    return list(session.scalars(stmt.limit(limit)))


def task_progress(session: Session, task: LabelTask) -> dict[str, Any]:
    """Samples, labels given and needed, samples complete; per annotator: labelled and owed."""
    counts = _label_counts(session, task.id)
    samples = session.scalar(select(func.count()).where(TaskSample.task_id == task.id)) or 0
    complete = sum(1 for n in counts.values() if n >= task.k)
    given = sum(min(n, task.k) for n in counts.values())
    done = dict(session.execute(
        select(Annotator.name, func.count(func.distinct(TaskLabel.sample_id)))
        .join(TaskLabel, TaskLabel.annotator_id == Annotator.id)
        .where(TaskLabel.task_id == task.id).group_by(Annotator.name)).all())
    open_ = samples - complete
    per = {}
    for name in dict.fromkeys([*task.annotators, *done]):
        mine = done.get(name, 0)
        mine_open = mine - _labelled_complete(session, task, name, counts)
        per[name] = {"labelled": mine, "owed": 0 if task.closed_at else max(0, open_ - mine_open)}
    return {"task": task.name, "k": task.k, "blind": task.blind, "closed": task.closed_at is not None,
            "samples": samples, "complete": complete, "labels": given, "needed": samples * task.k,
            "done": given / (samples * task.k) if samples else 0.0, "annotators": per}


def _labelled_complete(session: Session, task: LabelTask, name: str, counts: dict[int, int]) -> int:
    """How many of the samples this annotator labelled already have k labels."""
    me = _annotator_id(session, name)
    if me is None:
        return 0
    mine = session.scalars(select(TaskLabel.sample_id).where(TaskLabel.task_id == task.id,
                                                             TaskLabel.annotator_id == me)).all()
    return sum(1 for s in set(mine) if counts.get(s, 0) >= task.k)


def list_tasks(session: Session, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every task (of one dataset) with its progress."""
    stmt = select(LabelTask, Dataset.name).join(Dataset, Dataset.id == LabelTask.dataset_id).order_by(LabelTask.id)
    if dataset is not None:
        stmt = stmt.where(LabelTask.dataset_id == require_dataset(session, dataset).id)
    return [{"dataset": ds, "annotators_named": t.annotators, "created_by": t.created_by,
             "created_at": t.created_at, **task_progress(session, t)} for t, ds in session.execute(stmt).tuples()]


def _own_rows(session: Session, task: LabelTask, sample_id: int, annotator_id: int | None) -> list[Annotation]:
    if annotator_id is None:
        return []
    return list(session.scalars(
        select(Annotation).join(TaskLabel, TaskLabel.annotation_id == Annotation.id)
        .where(TaskLabel.task_id == task.id, TaskLabel.sample_id == sample_id,
               TaskLabel.annotator_id == annotator_id).order_by(Annotation.id.desc())))


def assignment_view(session: Session, task: LabelTask, sample_id: int, annotator: str, *,
                    history: int = 6, identity: Identity | None = None) -> LabelView | None:
    """The editor's view of a task sample for this annotator (None: not in the task).

    Blind task: the label fields are the annotator's own newest task label (None before their
    first), no prediction, and a history of their own task labels only (nothing they replaced).
    """
    annotator = recorded_name(identity, annotator)
    _check_member(task, annotator)
    if not session.scalar(select(TaskSample.sample_id).where(TaskSample.task_id == task.id,
                                                            TaskSample.sample_id == sample_id)):
        return None
    view = label_view(session, sample_id, history=history)
    if view is None or not task.blind:
        return view
    own = _own_rows(session, task, sample_id, _annotator_id(session, annotator))
    values = {f: next((getattr(a, f) for a in own if getattr(a, f) is not None), None) for f in FIELDS}
    sample = {"id": view.sample["id"], "dataset_id": view.sample["dataset_id"],
              "crop_path": view.sample["crop_path"], "source": "human" if own else None,
              "sources": {}, "head": own[0].id if own else None, **values}
    mine = {a.id for a in own}
    hist = [replace(h, before=None) for h in view.history if h.annotation_id in mine]
    return LabelView(sample, None, hist)


def submit_task_label(session: Session, task: LabelTask, sample_id: int, *, annotator: str,
                      identity: Identity | None = None, note: str = "", **values: Any) -> Annotation:
    """Save the annotator's label of a task sample: an ordinary human annotation (on top of the
    sample's head, so no conflict between independent labellers) linked to the task, then the
    current label is recomputed (the consensus once several people labelled it).

    TaskError: not an annotator of the task, sample not in it, task closed, or k labels from
    other people exist already. A second label by the same person replaces their first.
    """
    name = recorded_name(require(identity, Role.ANNOTATOR, "labelling"), annotator)
    _check_member(task, name)
    if task.closed_at is not None:
        raise TaskError(f"task {task.name!r} is closed")
    if not session.scalar(select(TaskSample.sample_id).where(TaskSample.task_id == task.id,
                                                            TaskSample.sample_id == sample_id)):
        raise TaskError(f"sample {sample_id} is not in task {task.name!r}")
    who = get_or_create_annotator(session, name)
    others = session.scalar(select(func.count(func.distinct(TaskLabel.annotator_id))).where(
        TaskLabel.task_id == task.id, TaskLabel.sample_id == sample_id, TaskLabel.annotator_id != who.id)) or 0
    mine = _own_rows(session, task, sample_id, who.id)
    if not mine and others >= task.k:
        raise TaskError(f"sample {sample_id} already has {others} labels (k = {task.k}) in task {task.name!r}")
    for attempt in range(CONFLICT_TRIES):  # independent labels: someone's save meanwhile is no conflict
        head = session.scalar(select(Sample.cur_annotation_id).where(Sample.id == sample_id))
        try:
            with session.begin_nested():  # a lost race rolls back only this attempt's row
                ann = edit_label(session, sample_id, base_annotation_id=head, annotator=name, identity=identity,
                                 note=note or f"task {task.name}", **values)
            break
        except ConflictError:
            if attempt == CONFLICT_TRIES - 1:
                raise
    session.add(TaskLabel(annotation_id=ann.id, task_id=task.id, sample_id=sample_id, annotator_id=who.id))
    session.flush()
    refresh_current(session, [sample_id])  # now a task label: the consensus rule applies
    return ann

