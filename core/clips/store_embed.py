"""Per-frame embeddings (and audio images) of every clip of a stored dataset: the catalog model's
backbone (core.clips.embed.FrameEmbedder) over each clip's stored aligned crops, one (N, D) float16
array per clip (NaN rows where masked) in the content-addressed array store, recorded on the clip
row under the model version. Resumable: a clip that has its array (file present) is skipped; each
batch is committed as it is done."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core.audio import AudioParams, clip_audio
from core.clips.arrays import ArrayStore
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


def embed_dataset(dataset: str, model: Any = None, *, audio: bool = True, params: AudioParams = AudioParams(),
                  batch_clips: int = BATCH_CLIPS, embedder: Any = None, progress: Progress | None = None,
                  db_url: str | None = None) -> dict[str, Any]:
    """Embed every clip of `dataset` with `model` (a catalog reference; None = the default model),
    and store each clip's audio image when `audio`. Returns counts and the model version."""
    from core.clips.embed import FrameEmbedder

    embedder = embedder or FrameEmbedder(model)
    started = time.perf_counter()  # frames/s of the work itself, not of loading the model
    with read_session(db_url) as s:
        ds_id = require_dataset(s, dataset).id
        clips = list(iter_clips(s, ds_id))
    todo = [c for c in clips if not _done(c, embedder.version) or (audio and not _audio_done(c))]
    counts = {"clips": len(clips), "embedded": 0, "audio": 0, "resumed": len(clips) - len(todo), "frames": 0}
    embed_s = 0.0  # the backbone's share (the first audio image also pays librosa's one-off JIT)
    if progress:
        progress(counts["resumed"], len(clips))
    with ArrayStore() as store:
        for i in range(0, len(todo), batch_clips):
            rows = []
            for clip in todo[i:i + batch_clips]:
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
            with write_session(db_url) as s, s.begin():  # each batch kept: a rerun resumes after it
                for sid, row in rows:
                    if "embeddings" in row:
                        set_clip_array(s, sid, "embeddings", embedder.version, row["embeddings"])
                    if "audio" in row:
                        set_clip_array(s, sid, "audio", None, row["audio"])
            if progress:
                progress(counts["resumed"] + min(i + batch_clips, len(todo)), len(clips))
    seconds = time.perf_counter() - started
    return {"dataset": dataset, "model": embedder.version, "dim": embedder.dim, **counts,
            "seconds": round(seconds, 3), "embed_seconds": round(embed_s, 3),
            "frames_per_s": round(counts["frames"] / max(embed_s, 1e-9), 1)}
