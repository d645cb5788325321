"""ORM tables of labelling tasks (several annotators per sample) and named label snapshots."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.store.models import Base, created, intpk


class LabelTask(Base):
    """k independent labels per sample of a dataset (or a filtered subset) from named annotators."""
    __tablename__ = "label_tasks"
    id: Mapped[intpk]
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    k: Mapped[int] = mapped_column(Integer)  # labels each sample needs, from k different people
    blind: Mapped[bool] = mapped_column(default=True)  # annotators never see others' labels/predictions
    annotators: Mapped[list[Any]]  # names allowed to label; [] = anyone
    filters: Mapped[dict[str, Any] | None]  # how the subset was chosen, e.g. {"split": "train"}
    created_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created]
    closed_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("dataset_id", "name", name="uq_label_tasks_dataset_name"),)


class TaskSample(Base):
    """A sample of a task's subset (fixed when the task is created)."""
    __tablename__ = "task_samples"
    task_id: Mapped[int] = mapped_column(ForeignKey("label_tasks.id", ondelete="CASCADE"), primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), primary_key=True)


class TaskLabel(Base):
    """An annotation given for a task (the row stays an ordinary append-only annotation)."""
    __tablename__ = "task_labels"
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"),
                                               primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("label_tasks.id", ondelete="CASCADE"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    __table_args__ = (Index("ix_task_labels_task_sample", "task_id", "sample_id"),
                      Index("ix_task_labels_task_annotator", "task_id", "annotator_id", "sample_id"),
                      Index("ix_task_labels_sample", "sample_id"))


class Snapshot(Base):
    """A named, immutable copy of a dataset's current labels (values and the annotation ids
    they came from; no image copies)."""
    __tablename__ = "snapshots"
    id: Mapped[intpk]
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    samples: Mapped[int] = mapped_column(Integer, default=0)
    labelled: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str] = mapped_column(String(64))  # snapshots.label_state when taken
    created_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created]
    __table_args__ = (UniqueConstraint("dataset_id", "name", name="uq_snapshots_dataset_name"),)


class SnapshotLabel(Base):
    """One sample's frozen current label in a snapshot."""
    __tablename__ = "snapshot_labels"
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), primary_key=True)
    head_id: Mapped[int | None] = mapped_column(ForeignKey("annotations.id"))  # cur_annotation_id then
    annotation_ids: Mapped[list[Any]]  # every annotation of the sample the label was computed from
    label: Mapped[dict[str, Any]]  # field -> value (cur_* without the prefix), "sources" -> cur_sources
