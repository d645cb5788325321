"""ORM tables of the label store (SQLAlchemy 2.0 typed declarative)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SOURCES = ("derived", "imported", "human")  # lowest to highest precedence for the current label
SOURCE_RANK = {s: i for i, s in enumerate(SOURCES)}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
created = Annotated[datetime, mapped_column(DateTime, default=utcnow, nullable=False)]
optfloat = Annotated[float | None, mapped_column(Float, nullable=True)]
# JSON label values: Python None is SQL NULL ("no value"), so [] and {} stay real values
optjson = Annotated[Any, mapped_column(JSON(none_as_null=True), nullable=True)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Dataset(Base):
    __tablename__ = "datasets"
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    taxonomy: Mapped[dict[str, Any]]  # {"name": ..., "classes": [...]}
    description: Mapped[str] = mapped_column(Text, default="")
    label_schema: Mapped[dict[str, Any] | None]  # core.label_schema.LabelSchema.to_dict(); None: single
    created_at: Mapped[created]


class Media(Base):
    __tablename__ = "media"
    id: Mapped[intpk]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(500))  # relative to the data dir
    original_name: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(10))  # image | video
    width: Mapped[int | None]
    height: Mapped[int | None]
    fps: Mapped[float | None]
    frames: Mapped[int | None]
    created_at: Mapped[created]


class Sample(Base):
    """One face crop; cur_* columns cache the current label (recomputable from annotations).

    Indexes serve keyset pages ordered by id under equality filters; range filters (V/A, quality)
    are checked row by row along that order on purpose: a range index would make the planner sort
    a large slice instead of stopping after one page.
    """
    __tablename__ = "samples"
    id: Mapped[intpk]
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    crop_sha256: Mapped[str] = mapped_column(String(64))
    crop_path: Mapped[str] = mapped_column(String(300))  # relative to the data dir
    source_path: Mapped[str] = mapped_column(String(500), default="")  # as named in the import
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    frame_index: Mapped[int | None]
    timestamp: Mapped[optfloat]
    bbox: Mapped[list[Any] | None]  # [x, y, w, h] in source pixels
    keypoints: Mapped[list[Any] | None]  # 5 x [x, y]
    quality: Mapped[optfloat]
    subject: Mapped[str | None] = mapped_column(String(200))
    split: Mapped[str | None] = mapped_column(String(20))
    flag: Mapped[str | None] = mapped_column(String(200))  # e.g. "low confidence 0.62"
    created_at: Mapped[created]
    cur_annotation_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", use_alter=True, name="fk_samples_cur_annotation"))
    cur_emotion: Mapped[str | None] = mapped_column(String(50))
    cur_valence: Mapped[optfloat]
    cur_arousal: Mapped[optfloat]
    cur_stress: Mapped[optfloat]
    cur_emotions: Mapped[optjson]  # multi-label set (class order), [] = none of the classes
    cur_distribution: Mapped[optjson]  # class -> probability, {} = no emotion
    cur_dominance: Mapped[optfloat]
    cur_targets: Mapped[optjson]  # named target -> value (each from its own best row)
    cur_source: Mapped[str | None] = mapped_column(String(10))  # source of the head annotation
    cur_sources: Mapped[optjson]  # field (or target:<name>) -> source it came from; SQL NULL if none
    cur_annotator_id: Mapped[int | None]
    has_prediction: Mapped[bool] = mapped_column(default=False)
    pred_emotion: Mapped[str | None] = mapped_column(String(50))  # latest prediction, cached
    pred_confidence: Mapped[optfloat]

    __table_args__ = (
        UniqueConstraint("dataset_id", "crop_sha256", name="uq_samples_dataset_crop"),
        Index("ix_samples_ds_id", "dataset_id", "id"),
        Index("ix_samples_ds_split_id", "dataset_id", "split", "id"),
        Index("ix_samples_ds_emotion_id", "dataset_id", "cur_emotion", "id"),
        Index("ix_samples_ds_source_id", "dataset_id", "cur_source", "id"),
        Index("ix_samples_ds_annotator_id", "dataset_id", "cur_annotator_id", "id"),
        Index("ix_samples_ds_pred_id", "dataset_id", "has_prediction", "id"),
        Index("ix_samples_media", "media_id", "frame_index"),
        Index("ix_samples_subject", "dataset_id", "subject"),
    )


class SampleCategory(Base):
    """A current multi-label category (or the dominant class of a distribution) of a sample:
    kept by core.store.current, so a page filtered on a category is a keyset scan of this PK."""
    __tablename__ = "sample_categories"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(100))
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    __table_args__ = (PrimaryKeyConstraint("dataset_id", "category", "sample_id"),
                      Index("ix_sample_categories_sample", "sample_id"))


class Annotator(Base):
    __tablename__ = "annotators"
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[created]


class Annotation(Base):
    """Append-only label rows; a change is a new row that names what it superseded."""
    __tablename__ = "annotations"
    id: Mapped[intpk]
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    annotator_id: Mapped[int | None] = mapped_column(ForeignKey("annotators.id"))
    source: Mapped[str] = mapped_column(String(10))  # derived | imported | human
    emotion: Mapped[str | None] = mapped_column(String(50))
    valence: Mapped[optfloat]
    arousal: Mapped[optfloat]
    stress: Mapped[optfloat]
    emotions: Mapped[optjson]  # multi-label set; [] = none of the classes
    distribution: Mapped[optjson]  # class -> probability; {} = no emotion
    dominance: Mapped[optfloat]
    targets: Mapped[optjson]  # named target -> value; each name is its own field
    raw: Mapped[dict[str, Any] | None]  # original values and scale, e.g. {"valence": 7, "scale": "1..9"}
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("annotations.id"))
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("annotations.id"))  # this row undoes that one
    prediction_id: Mapped[int | None] = mapped_column(ForeignKey("predictions.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created]

    annotator: Mapped[Annotator | None] = relationship(lazy="joined")
    __table_args__ = (Index("ix_annotations_sample_id", "sample_id", "id"),
                      Index("ix_annotations_annotator", "annotator_id", "id"))


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), default="")
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    config: Mapped[dict[str, Any] | None]
    metrics: Mapped[dict[str, Any] | None]  # per-epoch history and final scores
    progress: Mapped[dict[str, Any] | None]
    checkpoint_path: Mapped[str | None] = mapped_column(String(500))
    log_path: Mapped[str | None] = mapped_column(String(500))
    pid: Mapped[int | None]
    proc: Mapped[dict[str, Any] | None]  # {pid, create_time, cmdline} of the job process (psutil)
    error: Mapped[str | None] = mapped_column(Text)
    stop_reason: Mapped[str | None] = mapped_column(String(300))  # e.g. why it stopped early
    submitted_by: Mapped[str | None] = mapped_column(String(100))  # identity name (core.limits job cap)
    created_at: Mapped[created]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]


class Job(Base):
    """A background job other than training (evaluate, export): run by the worker like a Run."""
    __tablename__ = "jobs"
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))  # evaluate | export
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    args: Mapped[dict[str, Any] | None]  # the kind's keyword arguments, e.g. {"split": "test"}
    status: Mapped[str] = mapped_column(String(12), default="queued")
    result: Mapped[dict[str, Any] | None]
    log_path: Mapped[str | None] = mapped_column(String(500))
    pid: Mapped[int | None]
    proc: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(String(100))  # identity name (core.limits job cap)
    created_at: Mapped[created]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_jobs_status", "status", "id"),)


class Prediction(Base):
    __tablename__ = "predictions"
    id: Mapped[intpk]
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    model_version: Mapped[str] = mapped_column(String(200))
    probs: Mapped[dict[str, Any]]  # class -> probability
    emotion: Mapped[str | None] = mapped_column(String(50))
    confidence: Mapped[optfloat]
    valence: Mapped[optfloat]
    arousal: Mapped[optfloat]
    stress: Mapped[optfloat]
    loss: Mapped[optfloat]
    flags: Mapped[dict[str, Any] | None]  # e.g. {"va": "prior", "stress": "prior"}
    outputs: Mapped[optjson]  # richer heads: emotions/thresholds/distribution/dominance/targets
    split: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[created]
    __table_args__ = (Index("ix_predictions_sample", "sample_id", "id"),
                      Index("ix_predictions_run_loss", "run_id", "loss"))


class Feature(Base):
    """A per-sample numeric vector (OpenFace AUs/gaze/pose, landmarks) as float32 bytes."""
    __tablename__ = "features"
    id: Mapped[intpk]
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(ForeignKey("feature_kinds.kind"))
    values: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (UniqueConstraint("sample_id", "kind", name="uq_features_sample_kind"),)


class FeatureKind(Base):
    """The column names of one kind of feature vector, stored once."""
    __tablename__ = "feature_kinds"
    kind: Mapped[str] = mapped_column(String(50), primary_key=True)
    names: Mapped[list[Any]]


class SplitAssignment(Base):
    """Which split a sample has under a named scheme (e.g. 70/15/15, seed 0)."""
    __tablename__ = "split_assignments"
    scheme: Mapped[str] = mapped_column(String(50), primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"),
                                           primary_key=True)
    split: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[created]


class User(Base):
    """An account of a hosted instance (AFFECTLAB_AUTH=on): role and an Argon2 password hash."""
    __tablename__ = "users"
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(12))  # viewer | annotator | admin (core.auth.Role)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[created]
    last_login_at: Mapped[datetime | None]

