"""Pre-labelling: a model's predictions for a dataset's stored crops, kept as predictions (never labels).

The `prelabel` verb (cli/model.py) runs prelabel() with a progress bar.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from core.config import get_settings
from core.faces.io import ImageError, read_image
from core.paths import PathRefused, confined
from core.store.datasets import require_dataset
from core.store.db import read_session, write_session
from core.store.models import Prediction, Sample
from core.store.predictions import record_predictions

Progress = Callable[[int, int], None]  # (samples done, samples to do)
MAX_ERRORS = 20  # unreadable crops listed in the result


def load_model(model: str | Path | None, backend: str = "auto"):
    """A Predictor for a catalog reference (core.catalog: a file, "run:N", ...), or the shared
    pretrained default when model is None."""
    from core.catalog import load_predictor

    return load_predictor(model, backend=backend, shared=model is None)


def todo_samples(dataset_id: int, model_version: str, *, only_unlabelled: bool
                 ) -> tuple[list[tuple[int, str, str | None]], int]:
    """([(id, crop_path, split)] without a prediction of model_version yet, how many candidates
    already have one); unlabelled = no current emotion (the 'unlabelled' queue's meaning)."""
    base = select(Sample.id, Sample.crop_path, Sample.split).where(Sample.dataset_id == dataset_id)
    if only_unlabelled:
        base = base.where(Sample.cur_emotion.is_(None))
    done = select(Prediction.sample_id).where(Prediction.model_version == model_version)
    with read_session() as s:
        todo = s.execute(base.where(Sample.id.not_in(done)).order_by(Sample.id)).all()
        already = s.scalar(select(func.count()).select_from(
            base.where(Sample.id.in_(done)).subquery()))
    return [tuple(r) for r in todo], already


def predict_batch(predictor, batch: list[tuple[int, str, str | None]], data_dir: Path
                  ) -> tuple[list[dict[str, Any]], list[str]]:
    """record_predictions rows for the readable crops of a batch (with predictions.outputs for a
    multi-label, distribution, dominance or named-target model), and one error per unreadable."""
    from core.inference.prediction import face_outputs

    crops, kept, errors = [], [], []
    for sid, path, split in batch:
        try:
            crops.append(read_image(confined(path, (data_dir,))))  # a stored path stays in the data dir
            kept.append((sid, split))
        except (ImageError, PathRefused) as exc:
            errors.append(f"sample {sid}: {exc}")
    preds = predictor.predict_crops(crops) if crops else []
    rows = [{"sample_id": sid, "run_id": None, "model_version": predictor.model_version,
             "split": split, "probs": p.probs, "emotion": p.emotion, "confidence": p.confidence,
             "valence": p.valence, "arousal": p.arousal, "stress": p.stress, "loss": None,
             "flags": dict(p.flags), "outputs": face_outputs(p, predictor.config)}
            for (sid, split), p in zip(kept, preds)]
    return rows, errors


def prelabel(dataset: str, *, model: str | Path | None = None, only_unlabelled: bool = True,
             batch_size: int = 64, progress: Progress | None = None, backend: str = "auto"
             ) -> dict[str, Any]:
    """Predict the dataset's crops (only the unlabelled ones unless only_unlabelled=False) with
    a model (default: the pretrained FER model) and store the predictions, run_id None and
    model_version = the predictor's. Samples that already have a prediction of that
    model_version are skipped, so a second call adds nothing. Each batch commits on its own."""
    from core.inference.prediction import head_flags

    predictor = load_model(model, backend)
    version = predictor.model_version
    with read_session() as s:
        dataset_id = require_dataset(s, dataset).id
    todo, already = todo_samples(dataset_id, version, only_unlabelled=only_unlabelled)
    data_dir = get_settings().data_dir
    predicted, errors, failed = 0, [], 0
    for start in range(0, len(todo), batch_size):
        rows, errs = predict_batch(predictor, todo[start:start + batch_size], data_dir)
        if rows:
            with write_session() as s, s.begin():
                predicted += record_predictions(s, rows)
        failed += len(errs)
        errors += errs[:MAX_ERRORS - len(errors)]
        if progress is not None:
            progress(min(start + batch_size, len(todo)), len(todo))
    return {"dataset": dataset, "model_version": version, "model": str(predictor.path),
            "backend": predictor.backend, "only_unlabelled": only_unlabelled,
            "predicted": predicted, "skipped_existing": already, "failed": failed,
            "errors": errors, "flags": head_flags(predictor.config)}
