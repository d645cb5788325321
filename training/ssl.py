"""Semi-supervised path: pre-train an encoder without labels, train the multi-task heads on the
classifier split, personalise on one subject; each stage also trained from scratch to compare.

Splits (core.splits): "70/30" gives pretrain / labelled, then "70/20/10" splits labelled into
ssl / classifier / finetune. Pre-training uses the pretrain and ssl splits without labels. The
probe and classifier stages evaluate on the held-out frames of the finetune subjects (subjects
no earlier stage has seen); fine-tuning trains on the rest of one subject's frames and evaluates
on its held-out ones. Metrics are the last epoch's: no epoch is picked on evaluation rows.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from core.config import get_settings
from core.model.checkpoint import load_checkpoint, save_checkpoint
from core.model.config import ModelConfig
from core.model.features_mlp import DEFAULT_WIDTHS, features_config
from core.model.net import build_model
from core.store.datasets import dataset_taxonomy, require_dataset
from core.store.db import read_session
from training.data import AffectDataset, SplitRows
from training.evaluate import evaluate, summary
from training.features_data import (
    KIND_ORDER,
    FeatureDataset,
    FeatureRows,
    load_split_rows,
    ordered_kinds,
    standardisation,
    subjects_and_frames,
    take,
)
from training.setup import RunData
from training.ssl_pretrain import pretrain_masked, pretrain_simclr
from training.ssl_trainer import StageConfig, train_stage

MODALITIES = ("features", "crops")
TINY_WIDTHS = [8, 16, 32, 64]  # mini_xception for crops: stem + three residual blocks
METRICS = ("macro_f1", "ccc_va", "combined")
ARMS = ("scratch", "ssl")


@dataclass
class SSLConfig:
    modality: str = "features"  # features (features_mlp on OpenFace vectors) | crops (mini_xception)
    kinds: list[str] = field(default_factory=lambda: list(KIND_ORDER))  # feature kinds used
    pretrain_splits: list[str] = field(default_factory=lambda: ["pretrain", "ssl"])  # no labels used
    classifier_split: str = "classifier"
    finetune_split: str = "finetune"
    holdout: float = 0.5  # last fraction of each finetune subject's frames (per emotion) for eval
    widths: list[int] | None = None  # backbone widths; None = [256, 128] / TINY_WIDTHS (crops)
    dropout: float = 0.1  # between hidden layers (features) and before the heads
    input_size: int = 48  # crops: side in pixels
    # pre-training
    pretrain_epochs: int = 30
    pretrain_lr: float = 1e-3
    pretrain_batch_size: int = 128
    mask_ratio: list[float] = field(default_factory=lambda: [0.3, 0.5])  # masked fraction of dims
    temperature: float = 0.2  # NT-Xent
    # classifier (and the linear probe of the encoder: heads only, encoder frozen throughout)
    epochs: int = 40
    lr: float = 1e-3
    probe_lr: float = 1e-2
    freeze_epochs: int = 5  # classifier from the encoder: heads only for the first k epochs
    batch_size: int = 32
    weight_decay: float = 1e-4
    # personalised fine-tuning (low lr)
    finetune_epochs: int = 20
    finetune_lr: float = 1e-4
    # system
    seed: int = 0
    device: str = "cpu"
    out_dir: str = ""  # encoder checkpoints; "" = <models dir>/ssl

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, not {self.modality!r}")
        if not 0 < self.holdout < 1:
            raise ValueError("holdout must be in (0, 1)")
        self.kinds = ordered_kinds(self.kinds)

    @property
    def backbone(self) -> str:
        return "features_mlp" if self.modality == "features" else "mini_xception"

    @property
    def feature_kinds(self) -> list[str] | None:
        return self.kinds if self.modality == "features" else None


def _dataset(name: str) -> tuple[int, list[str]]:
    with read_session() as s:
        ds = require_dataset(s, name)
        return ds.id, list(dataset_taxonomy(ds).classes)


def _rows(dataset: str, splits: list[str], cfg: SSLConfig) -> tuple[SplitRows, list[str]]:
    ds_id, classes = _dataset(dataset)
    with read_session() as s:
        return load_split_rows(s, ds_id, splits, classes, kinds=cfg.feature_kinds), classes


def holdout_mask(subjects: np.ndarray, emotion: np.ndarray, frames: np.ndarray,
                 fraction: float) -> np.ndarray:
    """True = held out: per (subject, emotion), the last `fraction` of frames (at least one,
    and at least one left to train on when there are two or more)."""
    out = np.zeros(len(subjects), bool)
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(subjects.tolist(), emotion.tolist())):
        groups.setdefault(key, []).append(i)
    for members in groups.values():
        idx = np.array(members)
        idx = idx[np.argsort(frames[idx], kind="stable")]
        k = min(max(int(round(fraction * len(idx))), 1), len(idx) - 1)
        out[idx[len(idx) - k:]] = True
    return out


def finetune_parts(dataset: str, cfg: SSLConfig, subject: str | None = None
                   ) -> tuple[SplitRows, SplitRows, list[str]]:
    """(train rows, held-out rows, classes) of the finetune split; only `subject`'s when given."""
    rows, classes = _rows(dataset, [cfg.finetune_split], cfg)
    with read_session() as s:
        subjects, frames = subjects_and_frames(s, rows.ids)
    if subject is not None:
        keep = np.flatnonzero(subjects == subject)
        if not len(keep):
            raise ValueError(f"subject {subject!r} has no samples in the {cfg.finetune_split} split")
        rows, subjects, frames = take(rows, keep), subjects[keep], frames[keep]
    if not len(rows):
        raise ValueError(f"the {cfg.finetune_split} split is empty; split the dataset 70/30, then 70/20/10")
    held = holdout_mask(subjects, rows.emotion, frames, cfg.holdout)
    return take(rows, np.flatnonzero(~held)), take(rows, np.flatnonzero(held)), classes


def finetune_subjects(dataset: str, cfg: SSLConfig) -> list[str]:
    """The subjects of the finetune split, sorted."""
    ds_id, classes = _dataset(dataset)
    with read_session() as s:
        rows = load_split_rows(s, ds_id, [cfg.finetune_split], classes)
        subjects, _ = subjects_and_frames(s, rows.ids)
    return sorted(set(subjects.tolist()) - {""})


def _encoder_path(dataset: str, cfg: SSLConfig) -> Path:
    folder = Path(cfg.out_dir) if cfg.out_dir else get_settings().models_dir / "ssl"
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset)
    return folder / f"encoder-{safe}-{cfg.modality}-seed{cfg.seed}.pt"


def pretrain_encoder(dataset: str, config: SSLConfig | None = None) -> dict:
    """Pre-train the encoder on the pretrain splits (labels unused): masked-feature
    reconstruction (features) or SimCLR (crops). Saves an AffectLab checkpoint whose backbone
    is the encoder (heads untrained); returns {checkpoint, objective, history, samples, splits}."""
    cfg = config or SSLConfig()
    ds_id, classes = _dataset(dataset)
    with read_session() as s:
        present = [sp for sp in cfg.pretrain_splits
                   if len(load_split_rows(s, ds_id, [sp], classes)) > 0]
        if not present:
            raise ValueError(f"no samples in the pre-training splits {cfg.pretrain_splits}")
        rows = load_split_rows(s, ds_id, present, classes, kinds=cfg.feature_kinds)
    torch.manual_seed(cfg.seed)
    common = {"epochs": cfg.pretrain_epochs, "lr": cfg.pretrain_lr, "seed": cfg.seed,
              "batch_size": cfg.pretrain_batch_size, "weight_decay": cfg.weight_decay,
              "device": cfg.device}
    source = f"SSL encoder pre-trained on {dataset} {'+'.join(present)}"
    if isinstance(rows, FeatureRows):
        mean, std = standardisation(rows.x)
        model = build_model(features_config(mean, std, classes=classes, widths=cfg.widths or DEFAULT_WIDTHS,
                                            dropout=cfg.dropout, source=source))
        objective = "masked_reconstruction"
        history = pretrain_masked(model, rows.x, mask_ratio=tuple(cfg.mask_ratio), **common)
    else:
        model = build_model(ModelConfig.for_backbone(
            "mini_xception", classes=classes, widths=cfg.widths or TINY_WIDTHS,
            input_size=cfg.input_size, dropout=cfg.dropout, source=source))
        objective = "simclr_nt_xent"
        history = pretrain_simclr(model, rows.paths, get_settings().data_dir,
                                  temperature=cfg.temperature, **common)
    info = {"objective": objective, "splits": present, "samples": len(rows), "history": history}
    path = save_checkpoint(_encoder_path(dataset, cfg), model.cpu(), metrics={"loss": history[-1]},
                           extra={"ssl": info, "features": cfg.feature_kinds or []})
    return {"checkpoint": str(path), **info}


def _model_overrides(cfg: SSLConfig, train: SplitRows, init: str | None) -> dict:
    """ModelConfig overrides: a checkpoint brings its own (stats included); scratch gets the
    stats of its training rows (features) or the tiny crop settings."""
    if init is not None:
        return {}
    if isinstance(train, FeatureRows):
        mean, std = standardisation(train.x)
        return {"channels": len(mean), "mean": mean, "std": std,
                "widths": cfg.widths or DEFAULT_WIDTHS, "dropout": cfg.dropout}
    return {"widths": cfg.widths or TINY_WIDTHS, "input_size": cfg.input_size, "dropout": cfg.dropout}


def _check_init(init: str, cfg: SSLConfig, train: SplitRows) -> None:
    _, mc, _ = load_checkpoint(init)
    if mc.backbone != cfg.backbone:
        raise ValueError(f"{init} is a {mc.backbone} model; the {cfg.modality} modality needs {cfg.backbone}")
    if isinstance(train, FeatureRows) and mc.channels != train.x.shape[1]:
        raise ValueError(f"{init} takes {mc.channels} features, the kinds {cfg.kinds} give "
                         f"{train.x.shape[1]}; use the kinds it was trained on")


def _stage(dataset: str, cfg: SSLConfig, stage: str, data: RunData, *, init: str | Path | None,
           epochs: int, lr: float, freeze_epochs: int, train_split: str, subject: str | None = None
           ) -> dict:
    init = None if init is None else str(init)
    if init is not None:
        _check_init(init, cfg, data.train)
    arm = "scratch" if init is None else "init"
    sc = StageConfig(
        dataset=dataset, train_split=train_split, val_split=f"{cfg.finetune_split} (held out)",
        backbone=cfg.backbone, init=init or "scratch", model=_model_overrides(cfg, data.train, init),
        epochs=epochs, batch_size=cfg.batch_size, lr=lr, weight_decay=cfg.weight_decay,
        scheduler="cosine", patience=0, seed=cfg.seed, device=cfg.device,
        name=f"ssl {stage} ({arm}){f' {subject}' if subject else ''} on {dataset}"[:200],
        stage=stage, features=cfg.feature_kinds or [], subject=subject, freeze_epochs=freeze_epochs)
    result = train_stage(sc, data)
    return {"run_id": result["run_id"], "checkpoint": result["last"], "metrics": result["final"],
            "history": result["history"], "init": init or "scratch",
            "train_ids": data.train.ids.tolist(), "eval_ids": data.val.ids.tolist() if data.val else []}


def train_classifier(dataset: str, config: SSLConfig | None = None, *, init: str | Path | None = None,
                     probe: bool = False) -> dict:
    """The multi-task heads on the classifier split, from the encoder checkpoint `init` (None =
    scratch); its backbone is frozen for config.freeze_epochs epochs, or for all of them with
    probe=True (a linear probe, at config.probe_lr). Evaluated on the finetune subjects' held-out
    frames; returns {run_id, checkpoint (last epoch), metrics, history, init, train_ids, eval_ids}."""
    cfg = config or SSLConfig()
    train, classes = _rows(dataset, [cfg.classifier_split], cfg)
    if not len(train):
        raise ValueError(f"the {cfg.classifier_split} split is empty; split the dataset 70/30, then 70/20/10")
    _, held, _ = finetune_parts(dataset, cfg)
    data = RunData(classes, train, held)
    freeze = cfg.epochs if probe else (cfg.freeze_epochs if init is not None else 0)
    return _stage(dataset, cfg, "probe" if probe else "classifier", data, init=init, epochs=cfg.epochs,
                  lr=cfg.probe_lr if probe else cfg.lr, freeze_epochs=freeze,
                  train_split=cfg.classifier_split)


def finetune_subject(dataset: str, subject: str, config: SSLConfig | None = None, *,
                     init: str | Path) -> dict:
    """Fine-tune the classifier checkpoint `init` on `subject`'s finetune-split frames except its
    held-out ones (low lr), evaluated on the held-out ones. Returns train_classifier's keys plus
    subject and before (the metrics of `init` on the same held-out frames)."""
    cfg = config or SSLConfig()
    train, held, classes = finetune_parts(dataset, cfg, subject)
    before = evaluate_checkpoint(init, held, classes, device=cfg.device)
    out = _stage(dataset, cfg, "finetune", RunData(classes, train, held), init=init,
                 epochs=cfg.finetune_epochs, lr=cfg.finetune_lr, freeze_epochs=0,
                 train_split=cfg.finetune_split, subject=subject)
    return {"subject": subject, "before": before, **out}


def evaluate_checkpoint(path: str | Path, rows: SplitRows, classes: list[str], *,
                        device: str = "cpu") -> dict:
    """The summary metrics of a checkpoint on rows (feature vectors or crops)."""
    model, mc, _ = load_checkpoint(path, map_location=device)
    ds = FeatureDataset(rows) if isinstance(rows, FeatureRows) else \
        AffectDataset(rows, get_settings().data_dir, mc)
    metrics = evaluate(model, DataLoader(ds, batch_size=256), torch.device(device), classes)
    return summary(metrics)


def compare(scratch: list[dict], ssl: list[dict]) -> dict:
    """Mean of each metric over the runs of each arm, and the gain ssl - scratch."""
    def mean(ms: list[dict], k: str) -> float | None:
        vals = [m[k] for m in ms if m.get(k) is not None]
        return float(np.mean(vals)) if vals else None

    out = {arm: {k: mean(ms, k) for k in METRICS} for arm, ms in (("scratch", scratch), ("ssl", ssl))}
    out["gain"] = {k: None if out["ssl"][k] is None or out["scratch"][k] is None
                   else out["ssl"][k] - out["scratch"][k] for k in METRICS}
    return out


def run_ssl_pipeline(dataset: str, *, modality: str = "features", seed: int = 0,
                     config: SSLConfig | None = None, subjects: list[str] | None = None,
                     **overrides) -> dict:
    """Pre-train, then probe, classifier and per-subject fine-tuning, each from the encoder
    ("ssl") and from scratch ("scratch") on the same rows. Fine-tuning personalises each
    finetune subject (or `subjects`) starting from that arm's classifier. Returns
    {dataset, modality, seed, config, encoder, stages: {encoder, classifier, finetune:
    {scratch, ssl, gain (each macro_f1, ccc_va, combined)}}, runs}."""
    cfg = replace(config or SSLConfig(), modality=modality, seed=seed, **overrides)
    enc = pretrain_encoder(dataset, cfg)
    init = {"scratch": None, "ssl": enc["checkpoint"]}
    probe = {a: train_classifier(dataset, cfg, init=init[a], probe=True) for a in ARMS}
    cls = {a: train_classifier(dataset, cfg, init=init[a]) for a in ARMS}
    subjects = subjects or finetune_subjects(dataset, cfg)
    ft = {a: [finetune_subject(dataset, s, cfg, init=cls[a]["checkpoint"]) for s in subjects]
          for a in ARMS}
    finetune = compare([r["metrics"] for r in ft["scratch"]], [r["metrics"] for r in ft["ssl"]])
    finetune["before"] = compare([r["before"] for r in ft["scratch"]], [r["before"] for r in ft["ssl"]])
    finetune["per_subject"] = [{"subject": s, **{a: {k: ft[a][i]["metrics"].get(k) for k in METRICS}
                                                  for a in ARMS}} for i, s in enumerate(subjects)]
    return {
        "dataset": dataset, "modality": modality, "seed": seed, "config": asdict(cfg),
        "encoder": {k: enc[k] for k in ("checkpoint", "objective", "splits", "samples", "history")},
        "stages": {"encoder": compare([probe["scratch"]["metrics"]], [probe["ssl"]["metrics"]]),
                   "classifier": compare([cls["scratch"]["metrics"]], [cls["ssl"]["metrics"]]),
                   "finetune": finetune},
        "runs": {"probe": {a: probe[a]["run_id"] for a in ARMS},
                 "classifier": {a: cls[a]["run_id"] for a in ARMS},
                 "finetune": {a: [r["run_id"] for r in ft[a]] for a in ARMS}},
        "eval_samples": {"classifier": len(cls["ssl"]["eval_ids"]),
                         "finetune": [len(r["eval_ids"]) for r in ft["ssl"]]},
    }
