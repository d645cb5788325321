"""Per-frame embeddings of clips: sample, track the face, run a catalog image model's backbone over
the aligned crops (batched across clips, on CUDA when present) and store one (N, D) float16 array
per clip, content-addressed, rows of masked frames NaN. Each clip's computation key (file content,
time range, sampling rule, model version) is recorded, so a rerun resumes where it stopped."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.audio import AudioParams, clip_audio
from core.clips.arrays import ArrayStore
from core.clips.sampling import SamplingRule, sample_spans
from core.clips.track import ClipFaces, track_faces

SPAN_GROUP = 8  # clips of one file sampled in one decoding pass (bounds the frames held in memory)
Progress = Callable[[int, int, "ClipEmbedding"], None]  # (clips done, clips in all, the latest)


@dataclass(frozen=True)
class ClipJob:
    path: str
    start: float = 0.0
    end: float | None = None


@dataclass
class ClipEmbedding:
    job: ClipJob
    key: str
    sha: str  # content hash of the stored array
    rel: str  # its path under the data dir
    mask: list[bool]  # per slot: the tracked face is there
    dim: int
    resumed: bool  # found from an earlier run, nothing computed
    error: str | None = None  # the clip could not be read (nothing stored)


_FILE_SHA: dict[tuple, str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, cached per (path, mtime, size) in this process."""
    st = Path(path).stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _FILE_SHA:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _FILE_SHA[key] = h.hexdigest()
    return _FILE_SHA[key]


def compute_key(job: ClipJob, settings: dict[str, Any]) -> str:
    """The computation key of a clip: its file's content, time range and the settings."""
    text = json.dumps({"file": file_sha256(job.path), "start": job.start, "end": job.end, **settings},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def resolve_checkpoint(ref: Any) -> Path:
    """The torch checkpoint behind a catalog reference (an ONNX export: the checkpoint its card names)."""
    from core.catalog import find_model
    from core.inference.card import read_card

    entry = find_model(ref)
    if entry.kind == "default":
        from core.model.convert_fer import ensure_default_model

        return ensure_default_model()
    if entry.kind in ("onnx", "torchscript"):
        stored = (read_card(entry.path) or {}).get("checkpoint", {}).get("path")
        if not stored or not Path(stored).is_file():
            raise FileNotFoundError(f"{entry.path}: the checkpoint it was exported from is gone; "
                                    "embeddings need the checkpoint's backbone")
        return Path(stored)
    return Path(entry.path)


class FrameEmbedder:
    """A catalog image model's pooled backbone features for face crops: (M, crops) -> (M, D)."""

    def __init__(self, model: Any = None, *, device: str | None = None, batch_size: int = 64):
        import torch

        from core.inference.card import file_sha256 as checkpoint_sha
        from core.model.checkpoint import load_checkpoint

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        path = resolve_checkpoint(model)
        net, self.config, _ = load_checkpoint(path, map_location=self.device)
        if self.config.backbone == "features_mlp":
            raise ValueError(f"{path} reads feature vectors, not face images; choose an image model")
        self.backbone = net.backbone.eval()
        self.batch_size = batch_size
        self.version = f"{path.stem}@{checkpoint_sha(path)[:12]}"
        self.dim = int(self.backbone.feature_dim)

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        import torch

        from core.model.preprocess import preprocess_array

        out = np.zeros((len(crops), self.dim), np.float32)
        for i in range(0, len(crops), self.batch_size):
            x = torch.from_numpy(preprocess_array(crops[i:i + self.batch_size], self.config))
            with torch.inference_mode():
                out[i:i + len(x)] = self.backbone(x.to(self.device)).mean(dim=(2, 3)).float().cpu().numpy()
        return out


class ClipEmbedJob:
    """embed(jobs): every clip's (N, D) array stored; see the module docstring."""

    def __init__(self, embedder: FrameEmbedder, rule: SamplingRule = SamplingRule(), *,
                 pipeline: Any = None, with_landmarks: bool = False, detector: str = "short"):
        from core.faces import FacePipeline

        self.embedder, self.rule = embedder, rule
        self._own = pipeline is None
        self.pipeline = pipeline or FacePipeline(with_landmarks=with_landmarks, model=detector)
        self.settings = {"rule": rule.to_dict(), "embedder": embedder.version,
                         "landmarks": bool(getattr(self.pipeline, "with_landmarks", False))}

    def close(self) -> None:
        if self._own:
            self.pipeline.close()

    def embed(self, jobs: Sequence[ClipJob], store: ArrayStore, *, progress: Progress | None = None
              ) -> list[ClipEmbedding]:
        """One ClipEmbedding per job, in order; a clip that cannot be read has .error (others go on)."""
        results: list[ClipEmbedding | None] = [None] * len(jobs)
        pending: list[tuple[int, str, ClipFaces]] = []
        done = 0

        def finish(i: int, result: ClipEmbedding) -> None:
            nonlocal done
            results[i], done = result, done + 1
            if progress:
                progress(done, len(jobs), result)

        for group in _same_file_groups(jobs):
            todo = []
            for i in group:
                job = jobs[i]
                try:
                    key = compute_key(job, self.settings)
                except OSError as exc:
                    finish(i, self._failed(job, "", f"{job.path}: {exc.strerror or exc}"))
                    continue
                if (info := store.lookup("clip_embeddings", key)) is not None:
                    finish(i, ClipEmbedding(job, key, info["sha"], info["rel"], info["mask"], info["dim"], True))
                else:
                    todo.append((i, key))
            if not todo:
                continue
            path = jobs[todo[0][0]].path
            try:
                sampled = sample_spans(path, self.rule, [(jobs[i].start, jobs[i].end) for i, _ in todo])
            except (ValueError, OSError) as exc:  # VideoError is a ValueError
                sampled = [exc] * len(todo)
            for (i, key), clip in zip(todo, sampled):
                if isinstance(clip, Exception):
                    finish(i, self._failed(jobs[i], key, str(clip)))
                    continue
                pending.append((i, key, track_faces(clip, self.pipeline)))
                if sum(int(f.mask.sum()) for _, _, f in pending) >= self.embedder.batch_size:
                    for j, result in self._flush(pending, jobs, store):
                        finish(j, result)
                    pending = []
        for j, result in self._flush(pending, jobs, store):
            finish(j, result)
        return results  # type: ignore[return-value]

    def _failed(self, job: ClipJob, key: str, why: str) -> ClipEmbedding:
        return ClipEmbedding(job, key, "", "", [], self.embedder.dim, False, why)

    def _flush(self, pending: list[tuple[int, str, ClipFaces]], jobs: Sequence[ClipJob],
               store: ArrayStore) -> list[tuple[int, ClipEmbedding]]:
        """One forward pass over every tracked crop of the pending clips, then one array each."""
        if not pending:
            return []
        crops = np.concatenate([f.crops[f.mask] for _, _, f in pending])
        feats = self.embedder(crops) if len(crops) else np.zeros((0, self.embedder.dim), np.float32)
        out, at = [], 0
        for i, key, faces in pending:
            array = np.full((len(faces.mask), self.embedder.dim), np.nan, np.float32)
            k = int(faces.mask.sum())
            array[faces.mask], at = feats[at:at + k], at + k
            sha, rel = store.put("clip_embeddings", array)
            mask = faces.mask.tolist()
            store.record("clip_embeddings", key, {"sha": sha, "rel": rel, "mask": mask,
                                                  "dim": self.embedder.dim, **self.settings})
            out.append((i, ClipEmbedding(jobs[i], key, sha, rel, mask, self.embedder.dim, False)))
        return out


def embed_audio(jobs: Sequence[ClipJob], store: ArrayStore, params: AudioParams = AudioParams(),
                *, progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:
    """Each clip's audio image stored like the embeddings (kind clip_audio); a clip without audio
    gives {"present": False, "why": ...} and no file, an unreadable file {"error": ...}. Resumes
    by key like embed."""
    import av

    out = []
    for n, job in enumerate(jobs, 1):
        try:
            key = compute_key(job, {"audio": params.to_dict()})
            info = store.lookup("clip_audio", key)
            audio = clip_audio(job.path, params, start=job.start, end=job.end) if info is None else None
        except (OSError, av.FFmpegError) as exc:  # the file itself is unreadable
            key, audio, info = "", None, {"present": False, "why": None, "error": f"{job.path}: {exc}"}
        if audio is not None:
            info = {"present": audio.present, "why": audio.why, "seconds": audio.seconds,
                    "valid": int(audio.valid.sum())}
            if audio.present:
                sha, rel = store.put("clip_audio", audio.image)
                info |= {"sha": sha, "rel": rel}
                store.record("clip_audio", key, info)
        out.append({"key": key, **info})
        if progress:
            progress(n, len(jobs))
    return out


def _same_file_groups(jobs: Sequence[ClipJob]) -> list[list[int]]:
    """Indices of consecutive jobs on the same file, at most SPAN_GROUP per group."""
    groups: list[list[int]] = []
    for i, job in enumerate(jobs):
        if groups and len(groups[-1]) < SPAN_GROUP and jobs[groups[-1][0]].path == job.path:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups
