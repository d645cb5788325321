"""Clip training data in memory: frame embeddings (M, N, D) with their mask, audio images with their
valid columns, and per-task targets built from label dicts (NaN / -1 = not labelled)."""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.label_schema import LabelSchema


@dataclass
class ClipData:
    frames: np.ndarray | None  # (M, N, D) float32, zeros where masked; None: audio only
    mask: np.ndarray  # (M, N) bool
    targets: dict[str, np.ndarray]
    audio: np.ndarray | None = None  # (M, rows, width) float32
    audio_valid: np.ndarray | None = None  # (M, width) bool; all False = no audio

    def __len__(self) -> int:
        return len(self.mask)

    @classmethod
    def from_arrays(cls, embeddings: Sequence[np.ndarray] | None, targets: dict[str, np.ndarray], *,
                    audio: Sequence[np.ndarray | None] | None = None,
                    audio_valid: Sequence[np.ndarray | None] | None = None,
                    frames: int | None = None) -> ClipData:
        """Stack stored (N, D) embeddings (NaN rows = masked frames; shorter clips padded and masked
        up to `frames`) and (rows, width) audio images (None = no audio)."""
        if embeddings is None:
            x, mask = None, np.zeros((len(audio or []), 1), bool)
        else:
            n = frames or max(len(e) for e in embeddings)
            dim = embeddings[0].shape[1]
            x = np.zeros((len(embeddings), n, dim), np.float32)
            mask = np.zeros((len(embeddings), n), bool)
            for i, e in enumerate(embeddings):
                e = np.asarray(e, np.float32)[:n]
                ok = np.isfinite(e).all(axis=1)
                x[i, :len(e)][ok], mask[i, :len(e)] = e[ok], ok
        a = av = None
        if audio is not None:
            shape = next((im.shape for im in audio if im is not None), (1, 8))
            a = np.zeros((len(audio), *shape), np.float32)
            av = np.zeros((len(audio), shape[1]), bool)
            for i, im in enumerate(audio):
                if im is not None:
                    a[i] = np.nan_to_num(np.asarray(im, np.float32))
                    valid = audio_valid[i] if audio_valid is not None else None
                    av[i] = np.ones(shape[1], bool) if valid is None else valid
        return cls(x, mask, targets, a, av)

    def subset(self, idx: np.ndarray) -> ClipData:
        def pick(v: np.ndarray | None) -> np.ndarray | None:
            return None if v is None else v[idx]

        return ClipData(pick(self.frames), self.mask[idx], {k: v[idx] for k, v in self.targets.items()},
                        pick(self.audio), pick(self.audio_valid))

    def batches(self, batch_size: int, *, shuffle: bool, generator: torch.Generator | None = None,
                device: torch.device | str = "cpu") -> Iterator[dict[str, Any]]:
        m = len(self)
        order = torch.randperm(m, generator=generator).numpy() if shuffle else np.arange(m)
        for i in range(0, m, batch_size):
            idx = order[i:i + batch_size]
            frames = (self.frames[idx] if self.frames is not None
                      else np.zeros((len(idx), 1, 1), np.float32))
            batch = {"frames": torch.from_numpy(frames).to(device),
                     "mask": torch.from_numpy(self.mask[idx]).to(device),
                     "targets": {k: torch.from_numpy(v[idx]).to(device) for k, v in self.targets.items()}}
            if self.audio is not None:
                batch["audio"] = torch.from_numpy(self.audio[idx]).to(device)
                batch["audio_valid"] = torch.from_numpy(self.audio_valid[idx]).to(device)
            yield batch


def _num(value: Any) -> float:
    return float(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else np.nan


def label_targets(labels: Sequence[dict[str, Any]], schema: LabelSchema, tasks: Sequence[str]
                  ) -> dict[str, np.ndarray]:
    """Per-task target arrays from label dicts with the store's field names (emotion, emotions,
    distribution, valence, arousal, dominance, stress, targets); a missing field is unlabelled."""
    k, m = len(schema.classes), len(labels)
    index = {c: i for i, c in enumerate(schema.classes)}
    out: dict[str, np.ndarray] = {}
    if "emotion" in tasks:
        if schema.emotion_mode == "single":
            out["emotion"] = np.array([index[schema.class_name(lb["emotion"])] if lb.get("emotion") is not None
                                       else -1 for lb in labels], np.int64)
        else:
            y = np.full((m, k), np.nan, np.float32)
            for i, lb in enumerate(labels):
                if schema.emotion_mode == "multi" and lb.get("emotions") is not None:
                    y[i] = 0.0
                    y[i, [index[c] for c in schema.check_emotions(lb["emotions"])]] = 1.0
                elif schema.emotion_mode == "distribution" and lb.get("distribution"):
                    y[i] = 0.0
                    for c, p in schema.check_distribution(lb["distribution"]).items():
                        y[i, index[c]] = p
            out["emotion"] = y
    if "va" in tasks:
        out["va"] = np.array([[_num(lb.get("valence")), _num(lb.get("arousal"))] for lb in labels], np.float32)
    for task in ("dominance", "stress"):
        if task in tasks:
            out[task] = np.array([[_num(lb.get(task))] for lb in labels], np.float32)
    if "targets" in tasks:
        names = [t.name for t in schema.targets]
        out["targets"] = np.array([[_num((lb.get("targets") or {}).get(n)) for n in names] for lb in labels],
                                  np.float32).reshape(m, len(names))
    return out
