"""ORM table of continuous valence/arousal traces over a video (append-only, per annotator and media)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.store.models import Base, created, intpk


class VATrace(Base):
    """One recorded trace: samples {"t": [...], "valence": [...], "arousal": [...]} in media seconds
    (None where a 1-D mode did not trace that dimension). A new recording is a new row, never an edit."""
    __tablename__ = "va_traces"
    id: Mapped[intpk]
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    mode: Mapped[str] = mapped_column(String(10))  # 2d | valence | arousal
    rate_hz: Mapped[float] = mapped_column(Float)
    n_samples: Mapped[int] = mapped_column(Integer)
    samples: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created]
    __table_args__ = (Index("ix_va_traces_media", "media_id", "id"),)
