"""Before a training run is queued: labelled samples per split and task, and what they allow."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from core.store.models import Sample

TASK_NAMES = {"emotion": "emotion", "va": "valence/arousal", "stress": "stress",
              "dominance": "dominance", "targets": "named targets"}
BASE_TASKS = ("emotion", "va", "stress")  # shown for every dataset; the others when labelled
NO_SPLIT = "(none)"


def labelled_counts(session: Session, dataset_id: int) -> dict[str, dict[str, int]]:
    """{split: {"samples", "emotion", "va", "stress", "dominance", "targets"}}: samples whose
    current label has each task (emotion: a class, a multi-label set or a distribution; V/A:
    valence or arousal; targets: any named target). Samples without a split are under NO_SPLIT."""
    va = case((or_(Sample.cur_valence.is_not(None), Sample.cur_arousal.is_not(None)), 1), else_=0)
    emotion = case((or_(Sample.cur_emotion.is_not(None), Sample.cur_emotions.is_not(None),
                        Sample.cur_distribution.is_not(None)), 1), else_=0)
    rows = session.execute(
        select(Sample.split, func.count(), func.sum(emotion), func.sum(va),
               func.count(Sample.cur_stress), func.count(Sample.cur_dominance),
               func.count(Sample.cur_targets))
        .where(Sample.dataset_id == dataset_id).group_by(Sample.split)).all()
    return {split or NO_SPLIT: {"samples": n, "emotion": int(n_e or 0), "va": int(n_va or 0), "stress": n_s,
                                "dominance": n_d, "targets": n_t}
            for split, n, n_e, n_va, n_s, n_d, n_t in rows}


def split_counts(counts: dict[str, dict[str, int]], split: str | None) -> dict[str, int]:
    """One split's counts (None = every sample of the dataset)."""
    keys = ("samples", *TASK_NAMES)
    if split is not None:
        return {k: counts.get(split, {}).get(k, 0) for k in keys}
    return {k: sum(c.get(k, 0) for c in counts.values()) for k in keys}


def check_launch(counts: dict[str, dict[str, int]], *, train_split: str | None,
                 val_split: str | None, tasks: Sequence[str]) -> dict[str, list[str]]:
    """{"errors": [...], "warnings": [...]} for training `tasks` on these splits. Errors mean
    the run would fail or learn nothing measurable: no training samples or labels, or a
    validation split with no label of any chosen task. A chosen task without training or
    validation labels is a warning (its head stays a prior / is not validated)."""
    errors: list[str] = []
    warnings: list[str] = []
    train = split_counts(counts, train_split)
    where = f"split {train_split!r}" if train_split else "the dataset"
    if train["samples"] == 0:
        return {"errors": [f"{where} has no samples: split the dataset first"], "warnings": []}
    if not any(train[t] for t in tasks):
        errors.append(f"{where} has no labels for the chosen tasks "
                      f"({', '.join(TASK_NAMES[t] for t in tasks)})")
    warnings += [f"no {TASK_NAMES[t]} labels in {where}: that head stays an untrained prior"
                 for t in tasks if not train[t]]
    if val_split:
        val = split_counts(counts, val_split)
        missing = [t for t in tasks if train[t] and not val[t]]
        if val["samples"] == 0 or (not any(val[t] for t in tasks) and any(train[t] for t in tasks)):
            errors.append(f"validation split {val_split!r} has no labels for the chosen tasks: "
                          f"model selection and early stopping would be blind. Label some "
                          f"{val_split} samples or train on all samples without validation")
        else:
            warnings += [f"no {TASK_NAMES[t]} labels in validation split {val_split!r}: "
                         f"that head is not validated" for t in missing]
    return {"errors": errors, "warnings": warnings}


def counts_table(counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per split: samples and labelled counts per task, for display (dominance and
    named targets only when some split has them)."""
    shown = [t for t in TASK_NAMES if t in BASE_TASKS or any(c.get(t) for c in counts.values())]
    return [{"split": split, "samples": c["samples"], **{TASK_NAMES[t]: c.get(t, 0) for t in shown}}
            for split, c in sorted(counts.items())]
