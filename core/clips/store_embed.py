"""Per-frame embeddings (and audio images) of every clip of a stored dataset: the catalog model's
backbone (core.clips.embed.FrameEmbedder) over each clip's stored aligned crops, one (N, D) float16
array per clip (NaN rows where masked) in the content-addressed array store, recorded on the clip
row under the model version. Resumable: a clip that has its array (file present) is skipped; each
batch is committed as it is done. Under torchrun the ranks share the clips (core.clips.shard)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core.audio import AudioParams, clip_audio
from core.clips.arrays import ArrayStore
from core.clips.shard import (
    Shard,
    assign,
    barrier,
    broadcast_object,
    gather_objects,
    process_group,
    shard_from_env,
)
from core.config import get_settings
from core.store.clips import ClipInfo, iter_clips, set_clip_array
from core.store.datasets import require_dataset
from core.store.db import read_session, write_session

Progress = Callable[[int, int | None], None]  # (clips done, clips in all)
BATCH_CLIPS = 16


def _done(clip: ClipInfo, version: str) -> bool:
    info = clip.embedding(version)
    return bool(info) and (get_settings().data_dir / info["rel"]).is_file()


def _audio_done(clip: ClipInfo) -> bool:
    info = clip.arrays.get("audio")
    return bool(info) and (not info.get("present") or (get_settings().data_dir / info["rel"]).is_file())


def clip_embedding_array(clip: ClipInfo, embedder: Any) -> np.ndarray:
    """(N, D) float32 features of a clip's stored crops, NaN rows where the face is masked."""
    crops, mask = clip.crops(), np.asarray(clip.mask, bool)
    out = np.full((len(mask), embedder.dim), np.nan, np.float32)
    if mask.any():
        out[mask] = embedder(crops[mask])
    return out


def audio_info(clip: ClipInfo, store: ArrayStore, params: AudioParams) -> dict[str, Any]:
    """The clip's audio image stored (kind clip_audio) -> {present, sha, rel, valid, params}; a clip
    without audio (or whose media is gone) -> {present: False, why}."""
    if not clip.has_audio or not clip.media_path:
        return {"present": False, "why": "no audio track" if clip.media_path else "no media"}
    audio = clip_audio(get_settings().data_dir / clip.media_path, params, start=clip.start, end=clip.end)
    if not audio.present:
        return {"present": False, "why": audio.why}
    sha, rel = store.put("clip_audio", audio.image)
    return {"present": True, "sha": sha, "rel": rel, "valid": audio.valid.tolist(), "params": params.to_dict()}


def _pending(clips: list[ClipInfo], version: str, audio: bool) -> list[ClipInfo]:
    return [c for c in clips if not _done(c, version) or (audio and not _audio_done(c))]


def load_embedder(model: Any, shard: Shard) -> Any:
    """The catalog model's FrameEmbedder on this rank's device. Under torchrun rank 0 loads first
    (it may convert the default model once) and every rank must then hold the same version."""
    from core.clips.embed import FrameEmbedder

    embedder = FrameEmbedder(model, device=shard.device()) if shard.is_main else None
    barrier(shard)
    embedder = embedder or FrameEmbedder(model, device=shard.device())
    versions = gather_objects(shard, embedder.version)
    if len(set(versions)) > 1:
        raise RuntimeError(f"the ranks loaded different model versions ({', '.join(sorted(set(versions)))}): "
                           "the checkpoint changed while they started; run again")
    return embedder


def embed_dataset(dataset: str, model: Any = None, *, audio: bool = True, params: AudioParams = AudioParams(),
                  batch_clips: int = BATCH_CLIPS, embedder: Any = None, progress: Progress | None = None,
                  db_url: str | None = None, shard: Shard | None = None) -> dict[str, Any]:
    """Embed every clip of `dataset` with `model` (a catalog reference; None = the default model),
    and store each clip's audio image when `audio`. Returns counts and the model version.

    Under torchrun (shard: this process's place, default from the environment) rank 0 lists the
    clips still to do, every rank takes its share (core.clips.shard.assign, balanced by frames) on
    its own device, and the counts of all ranks are summed; `progress` follows this rank's share."""
    shard = shard or shard_from_env()
    with process_group(shard):
        embedder = embedder or load_embedder(model, shard)
        started = time.perf_counter()  # frames/s of the work itself, not of loading the model
        listed = None
        if shard.is_main:
            with read_session(db_url) as s:
                ds_id = require_dataset(s, dataset).id
                clips = list(iter_clips(s, ds_id))
            listed = (len(clips), _pending(clips, embedder.version, audio))
        n_clips, todo = broadcast_object(shard, listed)
        mine = [todo[i] for i in assign([sum(c.mask) + 1 for c in todo], shard.world_size)[shard.rank]]
        resumed = n_clips - len(todo)
        before = 0 if shard.distributed else resumed  # the bar counts this rank's share

        def step(n: int) -> None:
            if progress:
                progress(before + n, before + len(mine))

        counts = _embed_clips(mine, embedder, audio=audio, params=params, batch_clips=batch_clips, db_url=db_url,
                              progress=step)
        ranks = gather_objects(shard, {"rank": shard.rank, "device": str(getattr(embedder, "device", "cpu")),
                                       **counts})
    seconds = time.perf_counter() - started
    totals = {k: sum(r[k] for r in ranks) for k in ("embedded", "audio", "frames")}
    out = {"dataset": dataset, "model": embedder.version, "dim": embedder.dim, "clips": n_clips, **totals,
           "resumed": resumed, "seconds": round(seconds, 3),
           "embed_seconds": round(max(r["embed_seconds"] for r in ranks), 3),
           "frames_per_s": round(sum(r["frames_per_s"] for r in ranks), 1),  # the ranks run side by side
           "world_size": shard.world_size}
    return out | ({"ranks": ranks} if shard.distributed else {})


def _embed_clips(clips: list[ClipInfo], embedder: Any, *, audio: bool, params: AudioParams, batch_clips: int,
                 db_url: str | None, progress: Callable[[int], None]) -> dict[str, Any]:
    """Embed (and audio-image) these clips, a batch committed at a time; this process's counts."""
    counts = {"embedded": 0, "audio": 0, "frames": 0}
    embed_s = 0.0  # the backbone's share (the first audio image also pays librosa's one-off JIT)
    progress(0)
    with ArrayStore() as store:
        for i in range(0, len(clips), batch_clips):
            rows = []
            for clip in clips[i:i + batch_clips]:
                row: dict[str, Any] = {}
                if not _done(clip, embedder.version):
                    t0 = time.perf_counter()
                    array = clip_embedding_array(clip, embedder)
                    embed_s += time.perf_counter() - t0
                    sha, rel = store.put("clip_embeddings", array)
                    row["embeddings"] = {"sha": sha, "rel": rel, "dim": embedder.dim}
                    counts["embedded"] += 1
                    counts["frames"] += int(sum(clip.mask))
                if audio and not _audio_done(clip):
                    row["audio"] = audio_info(clip, store, params)
                    counts["audio"] += int(row["audio"]["present"])
                rows.append((clip.sample_id, row))
            # each batch kept: a rerun resumes after it (SQLite: BEGIN IMMEDIATE, so the ranks'
            # batches queue for the write lock instead of failing)
            with write_session(db_url) as s, s.begin():
                for sid, row in rows:
                    if "embeddings" in row:
                        set_clip_array(s, sid, "embeddings", embedder.version, row["embeddings"])
                    if "audio" in row:
                        set_clip_array(s, sid, "audio", None, row["audio"])
            progress(min(i + batch_clips, len(clips)))
    return {**counts, "embed_seconds": round(embed_s, 3), "frames_per_s": round(counts["frames"] / max(embed_s, 1e-9), 1)}
