"""ORM table of clips: a clip is a Sample (labels, history, Browse) plus this row of clip facts."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.store.models import Base, created, optjson


class Clip(Base):
    """[start, end] of a media file sampled into N slots (the rule recorded), one tracked face per
    clip: frame index per slot (-1: no frame), mask per slot (the face is there), the stacked
    aligned crops as one content-addressed .npy (zeros where masked), whether audio is present.
    The sample's own crop is a representative frame's crop."""
    __tablename__ = "clips"
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), primary_key=True)
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))
    start: Mapped[float] = mapped_column(Float)  # seconds
    end: Mapped[float] = mapped_column(Float)
    frames: Mapped[int] = mapped_column(Integer)  # N slots
    rule: Mapped[dict[str, Any]]  # core.clips.sampling.SamplingRule.to_dict()
    frame_indices: Mapped[list[Any]]  # per slot: the decoded frame's index, -1 = none
    mask: Mapped[list[Any]]  # per slot: True = the tracked face is there
    crops_sha256: Mapped[str] = mapped_column(String(64))
    crops_path: Mapped[str] = mapped_column(String(300))  # (N, S, S, 3) uint8 .npy under the data dir
    has_audio: Mapped[bool] = mapped_column(default=False)
    arrays: Mapped[optjson]  # computed arrays: {"embeddings": {version: {sha, rel, dim}}, "audio": {...}}
    created_at: Mapped[created]

    __table_args__ = (Index("ix_clips_media", "media_id"),)
