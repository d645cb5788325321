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


# -- clips from the label store (core.store.clips) ------------------------------------------------

LABEL_COLUMNS = {"emotion": "cur_emotion", "emotions": "cur_emotions", "distribution": "cur_distribution",
                 "valence": "cur_valence", "arousal": "cur_arousal", "dominance": "cur_dominance",
                 "stress": "cur_stress", "targets": "cur_targets"}


@dataclass
class StoreClips:
    """A dataset's clips as training data, in sample id order, with what grouped splits need."""

    data: ClipData
    sample_ids: list[int]
    subjects: list[str | None]
    splits: list[str | None]
    schema: LabelSchema
    tasks: list[str]
    model: str | None  # the embedding version the frames come from (None: audio only)


def _embedding_version(clips: Sequence[Any], model: str | None) -> str:
    """The embedding version to read: `model` when given, else the one version every clip has."""
    if model is not None:
        return model
    versions = sorted({v for c in clips for v in (c.arrays.get("embeddings") or {})})
    if len(versions) != 1:
        raise ValueError(f"the clips have {'no' if not versions else len(versions)} embedding version(s)"
                         f"{': ' + ', '.join(versions) if versions else ''}; "
                         + ("run `affectlab embed --dataset D` first" if not versions else "name one (model=)"))
    return versions[0]


def _snapshot_labels(session: Any, dataset: str, snapshot: str, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The label fields frozen in a snapshot (core.store.snapshots) for these samples."""
    from sqlalchemy import select

    from core.store.models_tasks import SnapshotLabel
    from core.store.snapshots import get_snapshot

    snap = get_snapshot(session, dataset, snapshot)
    found: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), 5000):
        for sid, label in session.execute(select(SnapshotLabel.sample_id, SnapshotLabel.label).where(
                SnapshotLabel.snapshot_id == snap.id, SnapshotLabel.sample_id.in_(ids[i:i + 5000]))):
            found[sid] = {f: (label or {}).get(f) for f in LABEL_COLUMNS}
    return found


def iter_store_clips(dataset: str, *, model: str | None = None, crops: bool = False, audio: bool = False,
                     split: str | None = None, snapshot: str | None = None,
                     db_url: str | None = None) -> Iterator[dict[str, Any]]:
    """Per clip of a stored dataset: sample_id, subject, split, frames ((N, D) float32 embeddings of
    version `model`, NaN rows masked; or with crops=True the (N, S, S, 3) uint8 aligned crops), mask
    (N,) bool, audio ((rows, width) image or None) and audio_valid, and label (the sample's current
    label fields, None = unlabelled; with `snapshot`, the fields frozen there, and clips added since
    are left out). A clip without the embeddings asked for raises ValueError."""
    from sqlalchemy import select

    from core.store.clips import iter_clips, load_array
    from core.store.datasets import require_dataset
    from core.store.db import read_session
    from core.store.models import Sample

    with read_session(db_url) as s:
        ds_id = require_dataset(s, dataset).id
        clips = [c for c in iter_clips(s, ds_id) if split is None or c.split == split]
        cols = [Sample.id, *(getattr(Sample, c) for c in LABEL_COLUMNS.values())]
        labels: dict[int, dict[str, Any]] = {}
        ids = [c.sample_id for c in clips]
        if snapshot:
            labels = _snapshot_labels(s, dataset, snapshot, ids)
            clips = [c for c in clips if c.sample_id in labels]
        else:
            for i in range(0, len(ids), 5000):
                for row in s.execute(select(*cols).where(Sample.id.in_(ids[i:i + 5000]))):
                    labels[row[0]] = dict(zip(LABEL_COLUMNS, row[1:]))
    version = None if crops else _embedding_version(clips, model)
    if version is not None and (missing := [c.sample_id for c in clips if not c.embedding(version)]):
        raise ValueError(f"{len(missing)} clip(s) of {dataset} (e.g. sample {missing[0]}) have no embeddings by "
                         f"{version}; run `affectlab embed --dataset {dataset}` with that model")
    for c in clips:
        frames = c.crops() if crops else load_array(c.embedding(version)["rel"]).astype(np.float32)
        image = valid = None
        info = c.arrays.get("audio") or {}
        if audio and info.get("present"):
            image, valid = load_array(info["rel"]).astype(np.float32), np.asarray(info["valid"], bool)
        yield {"sample_id": c.sample_id, "subject": c.subject, "split": c.split, "frames": frames,
               "mask": np.asarray(c.mask, bool), "audio": image, "audio_valid": valid,
               "label": labels.get(c.sample_id), "model": version}


def store_clip_data(dataset: str, *, model: str | None = None, tasks: Sequence[str] | None = None,
                    audio: bool = False, split: str | None = None, frames: int | None = None,
                    snapshot: str | None = None, db_url: str | None = None) -> StoreClips:
    """A dataset's stored clip embeddings (and audio images) with per-task targets from the clips'
    current labels (or those frozen in `snapshot`), ready for train_clip_model (ClipData.subset by
    split or subject)."""
    from core.model.clip_config import schema_tasks
    from core.store.datasets import dataset_schema, require_dataset
    from core.store.db import read_session

    with read_session(db_url) as s:
        schema = dataset_schema(require_dataset(s, dataset))
    items = list(iter_store_clips(dataset, model=model, audio=audio, split=split, snapshot=snapshot,
                                  db_url=db_url))
    if not items:
        raise ValueError(f"dataset {dataset} has no clips{f' in split {split}' if split else ''}")
    tasks = list(tasks or schema_tasks(schema))
    targets = label_targets([it["label"] or {} for it in items], schema, tasks)
    data = ClipData.from_arrays([it["frames"] for it in items], targets,
                                audio=[it["audio"] for it in items] if audio else None,
                                audio_valid=[it["audio_valid"] for it in items] if audio else None, frames=frames)
    return StoreClips(data, [it["sample_id"] for it in items], [it["subject"] for it in items],
                      [it["split"] for it in items], schema, tasks, items[0]["model"])
