"""Export current labels (and optionally predictions) to CSV or Parquet with the crops beside them.

A dataset with a label schema also gets its richer labels, one column each (read back by the
`csv` importer, core.ingest.rich_columns): `emotions` (JSON list of classes, `[]` = none),
`distribution` (JSON object class -> probability, `{}` = no emotion), `dominance` (in [-1, 1])
and `target:<name>` per named target, with the schema itself in `<file stem>.schema.json`.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.ingest.rich_columns import schema_path
from core.label_schema import LabelSchema
from core.paths import confined
from core.store.current import TARGET_PREFIX
from core.store.datasets import dataset_schema
from core.store.models import Dataset, Prediction, Sample
from core.targets import TargetError, check_target

COLUMNS = ["image_path", "emotion", "valence", "arousal", "stress", "subject", "split",
           "emotion_source", "quality", "source_path"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells (numbers are left alone)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def rich_columns(schema: LabelSchema) -> list[str]:
    """The export columns of a schema's richer labels (none for a single-label schema without extras)."""
    cols = {"multi": ["emotions"], "distribution": ["distribution"]}.get(schema.emotion_mode, [])
    return cols + (["dominance"] if schema.dominance else []) + [TARGET_PREFIX + t.name for t in schema.targets]


def _rich_cells(s: Sample, columns: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for col in columns:
        if col == "emotions":
            row[col] = None if s.cur_emotions is None else json.dumps(s.cur_emotions, ensure_ascii=False)
        elif col == "distribution":
            row[col] = None if s.cur_distribution is None else json.dumps(s.cur_distribution, ensure_ascii=False)
        elif col == "dominance":
            row[col] = s.cur_dominance
        else:
            row[col] = (s.cur_targets or {}).get(col.removeprefix(TARGET_PREFIX))
    return row


def _write_schema(target: Path, ds: Dataset) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(dataset_schema(ds).to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _latest_predictions(session: Session, ids: list[int]) -> dict[int, Prediction]:
    out: dict[int, Prediction] = {}
    for i in range(0, len(ids), 500):
        for p in session.scalars(select(Prediction).where(Prediction.sample_id.in_(ids[i:i + 500]))
                                 .order_by(Prediction.id)):
            out[p.sample_id] = p
    return out


def export_dataset(session: Session, dataset_id: int, to: str | Path, *, force: bool = False,
                   with_predictions: bool = False, copy_crops: bool = True) -> dict[str, Any]:
    """Write one row per sample; crops go to `<file stem>_crops/` with paths relative to the file.

    Refused (TargetError): an existing file without `force`, the store's own files, a file in
    the data dir's crops/media, a folder. The table is written to a temp file beside `to` and
    moved into place, so a failure leaves no partial file.
    """
    to = Path(to)
    if to.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"export file must end in .csv or .parquet, not {to.suffix or 'nothing'}")
    to = check_target(to, force=force, what="export")
    crops_dir = to.parent / f"{to.stem}_crops"
    data_dir = get_settings().data_dir
    for kind in ("crops", "media"):
        if crops_dir.resolve() == (data_dir / kind).resolve():
            raise TargetError(f"{to}: refused: its crops folder {crops_dir} is the store's {kind} folder")
    to.parent.mkdir(parents=True, exist_ok=True)
    ds = session.get(Dataset, dataset_id)
    if ds is None:
        raise LookupError(f"no dataset with id {dataset_id}")
    rich = rich_columns(dataset_schema(ds)) if ds.label_schema is not None else []
    # a dataset made before schemas needs none: the plain columns say everything
    schema_to = check_target(schema_path(to), force=force, what="export") if ds.label_schema else None
    samples = list(session.scalars(select(Sample).where(Sample.dataset_id == dataset_id).order_by(Sample.id)))
    preds = _latest_predictions(session, [s.id for s in samples]) if with_predictions else {}
    rows = []
    for s in samples:
        rel = f"{crops_dir.name}/{Path(s.crop_path).name}"
        if copy_crops:
            _copy_crop(confined(s.crop_path, (data_dir,)), crops_dir / Path(s.crop_path).name)  # core.paths
        row = {"image_path": rel, "emotion": s.cur_emotion, "valence": s.cur_valence,
               "arousal": s.cur_arousal, "stress": s.cur_stress, "subject": s.subject,
               "split": s.split, "emotion_source": (s.cur_sources or {}).get("emotion"),
               "quality": s.quality, "source_path": s.source_path, **_rich_cells(s, rich)}
        if with_predictions and s.id in preds:
            p = preds[s.id]
            row.update(pred_model=p.model_version, pred_emotion=p.emotion, pred_confidence=p.confidence,
                       pred_valence=p.valence, pred_arousal=p.arousal, pred_stress=p.stress)
            if p.outputs:
                row["pred_outputs"] = json.dumps(p.outputs, ensure_ascii=False)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else COLUMNS + rich)
    tmp = to.with_name(f".{to.name}.{os.getpid()}.tmp")
    try:
        if to.suffix.lower() == ".csv":
            frame = frame.map(safe_cell)
            frame.to_csv(tmp, index=False, lineterminator="\r\n")  # RFC 4180: a CR in a cell gets quoted
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, to)
    finally:
        tmp.unlink(missing_ok=True)
    if schema_to is not None:
        _write_schema(schema_to, ds)
    return {"file": str(to), "rows": len(rows), "crops": str(crops_dir) if copy_crops else None,
            "schema": str(schema_to) if schema_to else None}


def _copy_crop(source: Path, target: Path) -> None:
    """Copy a stored crop beside the export (content-addressed: an existing file is the same);
    a missing crop is an error naming the sample's file, not a traceback."""
    if target.exists():
        return
    if not source.is_file():
        raise FileNotFoundError(f"crop {source} of the store is missing; run `gc --dry-run` and "
                                "re-import the dataset's source")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
