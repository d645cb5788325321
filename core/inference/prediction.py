"""FacePrediction and the numpy post-processing every backend (torch, TorchScript, ONNX) shares, for every head."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.model.config import ModelConfig
from core.model.prior import apply_prior, head_flags

HEAD_OUTPUTS = ("emotion", "va", "stress")  # exported graph outputs, then config.extra_targets


def output_names(config: ModelConfig) -> list[str]:
    """Names and order of the raw model outputs in an exported graph."""
    return [*HEAD_OUTPUTS, *(["dominance"] if config.dominance else []), *config.extra_targets]


def postprocess(raw: dict[str, np.ndarray], config: ModelConfig) -> dict[str, np.ndarray]:
    """Raw outputs -> {"probs": (N, K), "va": (N, 2), "stress": (N,), "dominance": (N,) when
    the model has it, extra targets: (N,)}.

    The same rule as AffectNet.predict: softmax over classes (per-class sigmoid in multi-label
    mode); an untrained V/A or stress head is replaced by its prior from the probs. Named
    targets come out of the graph already inside their range.
    """
    logits = np.asarray(raw["emotion"], np.float64)
    if config.multi_label:
        probs = 1.0 / (1.0 + np.exp(-logits))
    else:
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
    va, stress = apply_prior(probs.astype(np.float32), np.asarray(raw["va"], np.float64),
                             np.asarray(raw["stress"], np.float64).reshape(-1),
                             trained=config, classes=config.classes)
    va, stress = np.asarray(va, np.float64), np.asarray(stress, np.float64)
    out = {"probs": probs, "va": va, "stress": stress}
    if config.dominance:
        out["dominance"] = np.asarray(raw["dominance"], np.float64).reshape(-1)
    for name in config.extra_targets:
        out[name] = np.asarray(raw[name], np.float64).reshape(-1)
    return out


@dataclass(kw_only=True)
class FacePrediction:
    """One face: emotion probabilities (a distribution, or per-category sigmoids in multi-label
    mode with the categories above their thresholds in `emotions`), valence/arousal in [-1, 1],
    stress in [0, 1], and dominance / named targets when the model has those heads.

    bbox (x, y, w, h), score, keypoints (5, 2) and quality are in frame pixels and, with crop,
    set only by predict_frame; flags say which numbers are trained outputs and which are the prior.
    """

    probs: dict[str, float]  # class -> probability (sums to 1 unless multi_label)
    emotion: str  # top class
    confidence: float  # its probability
    valence: float
    arousal: float
    stress: float
    flags: dict[str, str]  # head -> "trained" | "prior" | "untrained" (see head_flags)
    bbox: tuple[float, float, float, float] | None = None
    score: float | None = None  # detector confidence
    keypoints: np.ndarray | None = None
    quality: float | None = None
    extra: dict[str, float] = field(default_factory=dict)  # extra targets without a range, raw
    mode: str = "single"  # the emotion mode: single | multi (probs are per-class sigmoids) | distribution
    emotions: list[str] | None = None  # multi: every category at or above its threshold
    dominance: float | None = None  # in [-1, 1], when the model has a dominance head
    targets: dict[str, float] = field(default_factory=dict)  # named targets, inside their ranges
    # the face's canonical aligned crop (BGR, core.faces.crop) when predict_frame found it; not
    # part of to_dict(), never compared
    crop: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; pixel coordinates rounded to 0.01."""
        return {
            "bbox": None if self.bbox is None else [round(float(v), 2) for v in self.bbox],
            "score": None if self.score is None else float(self.score),
            "keypoints": None if self.keypoints is None
            else np.asarray(self.keypoints, np.float64)[:, :2].round(2).tolist(),
            "quality": None if self.quality is None else float(self.quality),
            "emotion": self.emotion,
            "confidence": float(self.confidence),
            "probs": {k: float(v) for k, v in self.probs.items()},
            "valence": float(self.valence),
            "arousal": float(self.arousal),
            "stress": float(self.stress),
            "flags": dict(self.flags),
            **({"extra": {k: float(v) for k, v in self.extra.items()}} if self.extra else {}),
            **({"mode": self.mode} if self.mode != "single" else {}),
            **({"emotions": list(self.emotions)} if self.emotions is not None else {}),
            **({"dominance": float(self.dominance)} if self.dominance is not None else {}),
            **({"targets": {k: float(v) for k, v in self.targets.items()}} if self.targets else {}),
        }


def to_predictions(post: dict[str, np.ndarray], config: ModelConfig,
                   faces: list | None = None) -> list[FacePrediction]:
    """One FacePrediction per row of postprocess()'s arrays; faces (core.faces.Face) add the
    box, score, keypoints and quality."""
    flags = head_flags(config)
    thresholds = np.asarray(config.class_thresholds())
    named = config.named_targets
    out = []
    for i, row in enumerate(post["probs"]):
        top = int(np.argmax(row))
        face = faces[i] if faces is not None else None
        out.append(FacePrediction(
            probs={c: float(p) for c, p in zip(config.classes, row)},
            emotion=config.classes[top], confidence=float(row[top]),
            valence=float(post["va"][i, 0]), arousal=float(post["va"][i, 1]),
            stress=float(post["stress"][i]), flags=dict(flags),
            extra={t: float(post[t][i]) for t in config.extra_targets if t not in named},
            mode=config.emotion_mode,
            emotions=[c for c, p, t in zip(config.classes, row, thresholds) if p >= t]
            if config.emotion_mode == "multi" else None,
            dominance=float(post["dominance"][i]) if "dominance" in post else None,
            targets={t: float(post[t][i]) for t in named},
            bbox=None if face is None else tuple(float(v) for v in face.bbox),
            score=None if face is None else float(face.score),
            keypoints=None if face is None else np.asarray(face.keypoints, np.float32),
            quality=None if face is None or face.quality is None else float(face.quality)))
    return out



def head_outputs(config: ModelConfig, probs: dict[str, float], *, dominance: float | None = None,
                 targets: dict[str, float] | None = None) -> dict[str, Any] | None:
    """One face's outputs beyond the single-label ones, as stored in predictions.outputs:
    {"emotions": {class: sigmoid prob}, "thresholds": {class: t}} (multi), {"distribution":
    {class: p}} (distribution), "dominance", {"targets": {name: value}}; None when the model
    has none of these heads."""
    out: dict[str, Any] = {}
    if config.emotion_mode == "multi":
        out["emotions"] = {c: float(probs[c]) for c in config.classes}
        out["thresholds"] = dict(zip(config.classes, config.class_thresholds()))
    elif config.emotion_mode == "distribution":
        out["distribution"] = {c: float(probs[c]) for c in config.classes}
    if dominance is not None:
        out["dominance"] = float(dominance)
    if targets:
        out["targets"] = {t: float(v) for t, v in targets.items()}
    return out or None


def face_outputs(pred: FacePrediction, config: ModelConfig) -> dict[str, Any] | None:
    """head_outputs of a FacePrediction (prelabel, capture)."""
    return head_outputs(config, pred.probs, dominance=pred.dominance, targets=pred.targets)
