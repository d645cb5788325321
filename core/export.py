"""Export current labels (and optionally predictions) to CSV or Parquet with the crops beside them."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.store.models import Prediction, Sample

COLUMNS = ["image_path", "emotion", "valence", "arousal", "stress", "subject", "split",
           "emotion_source", "quality", "source_path"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells (numbers are left alone)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _latest_predictions(session: Session, ids: list[int]) -> dict[int, Prediction]:
    out: dict[int, Prediction] = {}
    for i in range(0, len(ids), 500):
        for p in session.scalars(select(Prediction).where(Prediction.sample_id.in_(ids[i:i + 500]))
                                 .order_by(Prediction.id)):
            out[p.sample_id] = p
    return out


def export_dataset(session: Session, dataset_id: int, to: str | Path, *,
                   with_predictions: bool = False, copy_crops: bool = True) -> dict[str, Any]:
    """Write one row per sample; crops go to `<file stem>_crops/` with paths relative to the file."""
    to = Path(to)
    if to.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"export file must end in .csv or .parquet, not {to.suffix or 'nothing'}")
    to.parent.mkdir(parents=True, exist_ok=True)
    crops_dir = to.parent / f"{to.stem}_crops"
    data_dir = get_settings().data_dir
    samples = list(session.scalars(select(Sample).where(Sample.dataset_id == dataset_id).order_by(Sample.id)))
    preds = _latest_predictions(session, [s.id for s in samples]) if with_predictions else {}
    rows = []
    for s in samples:
        rel = f"{crops_dir.name}/{Path(s.crop_path).name}"
        if copy_crops:
            target = crops_dir / Path(s.crop_path).name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(data_dir / s.crop_path, target)
        row = {"image_path": rel, "emotion": s.cur_emotion, "valence": s.cur_valence,
               "arousal": s.cur_arousal, "stress": s.cur_stress, "subject": s.subject,
               "split": s.split, "emotion_source": (s.cur_sources or {}).get("emotion"),
               "quality": s.quality, "source_path": s.source_path}
        if with_predictions and s.id in preds:
            p = preds[s.id]
            row.update(pred_model=p.model_version, pred_emotion=p.emotion, pred_confidence=p.confidence,
                       pred_valence=p.valence, pred_arousal=p.arousal, pred_stress=p.stress)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else COLUMNS)
    if to.suffix.lower() == ".csv":
        frame = frame.map(safe_cell)
        frame.to_csv(to, index=False, lineterminator="\r\n")  # RFC 4180: a CR in a cell gets quoted
    else:
        frame.to_parquet(to, index=False)
    return {"file": str(to), "rows": len(rows), "crops": str(crops_dir) if copy_crops else None}
