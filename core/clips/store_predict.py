"""A clip model over every clip of a stored dataset (an archive): the clips embedded first with the
image model the clip model names (core.clips.store_embed, resumable), then the model run over the
stored embeddings and audio images, one Prediction row per clip (run_id None, model_version
"<checkpoint>@<sha12>", as prelabel stores an image model's). Resumable: a clip that has a
prediction of that version is skipped. Under torchrun the ranks share the clips (core.clips.shard)."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from core.audio import AudioParams, clip_audio
from core.clips.predict import MULTI_THRESHOLD, ClipModelRunner, clip_predictions
from core.clips.shard import Shard, assign, broadcast_object, gather_objects, process_group, shard_from_env
from core.config import get_settings
from core.inference.prediction import FacePrediction
from core.label_schema import LabelSchema
from core.model.clip_config import ClipConfig
from core.store.clips import ClipInfo, iter_clips, load_array
from core.store.datasets import require_dataset
from core.store.db import read_session, write_session
from core.store.models import Prediction
from core.store.predictions import record_predictions

Progress = Callable[[int, int | None], None]  # (clips done, clips in all)
BATCH_CLIPS = 64


def clip_model_version(path: Path) -> str:
    """'run-3@<sha12>' for models/run-3/best.pt, else '<file stem>@<sha12>'."""
    from core.inference.backends import export_stem
    from core.inference.card import file_sha256

    return f"{export_stem(path).split('.')[0]}@{file_sha256(path)[:12]}"


def clip_outputs(pred: FacePrediction, schema: LabelSchema) -> dict[str, Any] | None:
    """predictions.outputs of a clip prediction: the heads beyond the single-label fields."""
    out: dict[str, Any] = {}
    if schema.emotion_mode == "multi":
        out["emotions"], out["thresholds"] = dict(pred.probs), {c: MULTI_THRESHOLD for c in schema.classes}
    elif schema.emotion_mode == "distribution":
        out["distribution"] = dict(pred.probs)
    if pred.dominance is not None:
        out["dominance"] = pred.dominance
    if pred.targets:
        out["targets"] = dict(pred.targets)
    return out or None


def clip_inputs(clips: list[ClipInfo], config: ClipConfig) -> dict[str, np.ndarray | None]:
    """The model's batch from the stored arrays: frames (B, N, D) (zeros where masked, or for an
    audio-only model), mask (B, N), and for audio kinds the audio images with their valid columns
    (stored with the model's audio params, else computed from the clip's media)."""
    n, b = config.frames, len(clips)
    x, mask = np.zeros((b, n, config.input_dim), np.float32), np.zeros((b, n), bool)
    if config.kind != "audio":
        for i, clip in enumerate(clips):
            if (info := clip.embedding(config.embedder)) is None:
                raise ValueError(f"sample {clip.sample_id}: no embeddings by {config.embedder}; run "
                                 "`affectlab embed` with that model")
            e = load_array(info["rel"]).astype(np.float32)[:n]
            ok = np.isfinite(e).all(axis=1)
            x[i, :len(e)][ok], mask[i, :len(e)] = e[ok], ok
    if not config.has_audio:
        return {"frames": x, "mask": mask, "audio": None, "audio_valid": None}
    params = AudioParams.from_dict(config.audio)
    audio = np.zeros((b, params.rows, params.width), np.float32)
    valid = np.zeros((b, params.width), bool)
    for i, clip in enumerate(clips):
        info = clip.arrays.get("audio") or {}
        if info.get("present") and info.get("params") == params.to_dict():
            audio[i], valid[i] = np.nan_to_num(load_array(info["rel"])), np.asarray(info["valid"], bool)
        elif clip.has_audio and clip.media_path:
            heard = clip_audio(get_settings().data_dir / clip.media_path, params, start=clip.start, end=clip.end)
            if heard.present:
                audio[i], valid[i] = heard.image, heard.valid
    return {"frames": x, "mask": mask, "audio": audio, "audio_valid": valid}


def _rows(clips: list[ClipInfo], runner: ClipModelRunner, version: str) -> tuple[list[dict[str, Any]], int]:
    """(record_predictions rows of the clips that have a face or audio, how many had neither)."""
    config = runner.config
    feed = clip_inputs(clips, config)
    preds = clip_predictions(runner.run(feed["frames"], feed["mask"], feed["audio"], feed["audio_valid"]), config)
    usable = feed["mask"].any(axis=1)
    if feed["audio_valid"] is not None:
        usable |= feed["audio_valid"].any(axis=1)
    schema = config.label_schema
    rows = [{"sample_id": c.sample_id, "run_id": None, "model_version": version, "split": c.split,
             "probs": p.probs, "emotion": p.emotion, "confidence": p.confidence, "valence": p.valence,
             "arousal": p.arousal, "stress": p.stress, "loss": None, "flags": dict(p.flags),
             "outputs": clip_outputs(p, schema)}
            for c, p, ok in zip(clips, preds, usable) if ok]
    return rows, int((~usable).sum())


def _embed_first(dataset: str, config: ClipConfig, shard: Shard, db_url: str | None) -> dict[str, Any] | None:
    """Every clip embedded with the clip model's image model (and audio images with its params)."""
    if config.kind == "audio":
        return None
    from core.clips.predict import find_embedder_checkpoint
    from core.clips.store_embed import embed_dataset

    if not config.embedder:
        raise ValueError("the clip model does not name the image model its frames were embedded with")
    params = AudioParams.from_dict(config.audio) if config.has_audio else AudioParams()
    return embed_dataset(dataset, find_embedder_checkpoint(config.embedder), audio=config.has_audio,
                         params=params, db_url=db_url, shard=shard)


def _pending(dataset: str, version: str, db_url: str | None) -> tuple[int, list[ClipInfo]]:
    with read_session(db_url) as s:
        ds_id = require_dataset(s, dataset).id
        clips = list(iter_clips(s, ds_id))
        done = set(s.scalars(select(Prediction.sample_id).where(Prediction.model_version == version)))
    return len(clips), [c for c in clips if c.sample_id not in done]


def predict_dataset_clips(dataset: str, model: str | Path, *, batch_clips: int = BATCH_CLIPS,
                          progress: Progress | None = None, db_url: str | None = None,
                          shard: Shard | None = None) -> dict[str, Any]:
    """Store the clip model's prediction for every clip of `dataset` that has none by this model
    version; `model` a clip checkpoint / ONNX export or a catalog id ("run:N"). Returns counts."""
    from core.clips.predict_file import resolve_clip_model

    shard = shard or shard_from_env()
    path = resolve_clip_model(model)
    runner = ClipModelRunner(path)
    version = clip_model_version(path)
    with process_group(shard):
        embedded = _embed_first(dataset, runner.config, shard, db_url)
        started = time.perf_counter()
        n_clips, todo = broadcast_object(shard, _pending(dataset, version, db_url) if shard.is_main else None)
        mine = [todo[i] for i in assign([1.0] * len(todo), shard.world_size)[shard.rank]]
        before = 0 if shard.distributed else n_clips - len(todo)
        counts = {"rank": shard.rank, "predicted": 0, "no_input": 0}
        if progress:
            progress(before, before + len(mine))
        for i in range(0, len(mine), batch_clips):
            rows, skipped = _rows(mine[i:i + batch_clips], runner, version)
            counts["no_input"] += skipped
            with write_session(db_url) as s, s.begin():  # each batch kept: a rerun resumes after it
                counts["predicted"] += record_predictions(s, rows) if rows else 0
            if progress:
                progress(before + min(i + batch_clips, len(mine)), before + len(mine))
        ranks = gather_objects(shard, counts)
    out = {"dataset": dataset, "model": str(path), "model_version": version, "backend": runner.backend,
           "clips": n_clips, "skipped_existing": n_clips - len(todo),
           "predicted": sum(r["predicted"] for r in ranks), "no_input": sum(r["no_input"] for r in ranks),
           "seconds": round(time.perf_counter() - started, 3), "world_size": shard.world_size, "embed": embedded}
    return out | ({"ranks": ranks} if shard.distributed else {})
