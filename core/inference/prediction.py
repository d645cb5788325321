"""FacePrediction and the numpy post-processing shared by every backend (torch, TorchScript, ONNX)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.model.config import ModelConfig

HEAD_OUTPUTS = ("emotion", "va", "stress")  # exported graph outputs, then config.extra_targets


def output_names(config: ModelConfig) -> list[str]:
    """Names and order of the raw model outputs in an exported graph."""
    return [*HEAD_OUTPUTS, *config.extra_targets]


def head_flags(config: ModelConfig) -> dict[str, str]:
    """Where each head's number comes from: "trained" weights, the emotion-derived "prior"
    (untrained V/A or stress heads), or "untrained" (an emotion head with random weights)."""
    trained = config.trained
    return {"emotion": "trained" if trained["emotion"] else "untrained",
            "va": "trained" if trained["va"] else "prior",
            "stress": "trained" if trained["stress"] else "prior"}


def postprocess(raw: dict[str, np.ndarray], config: ModelConfig) -> dict[str, np.ndarray]:
    """Raw outputs -> {"probs": (N, K), "va": (N, 2), "stress": (N,), extra targets: (N,)}.

    The same rule as AffectNet.predict: softmax over classes (per-class sigmoid when
    multi_label); an untrained V/A or stress head is replaced by its prior from the probs.
    """
    logits = np.asarray(raw["emotion"], np.float64)
    if config.multi_label:
        probs = 1.0 / (1.0 + np.exp(-logits))
    else:
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
    va = np.asarray(raw["va"], np.float64)
    stress = np.asarray(raw["stress"], np.float64).reshape(-1)
    if not (config.trained["va"] and config.trained["stress"]) and len(probs):
        prior_va, prior_stress = _prior_numpy(probs.astype(np.float32), config.classes)
        if not config.trained["va"]:
            va = np.asarray(prior_va, np.float64)
        if not config.trained["stress"]:
            stress = np.asarray(prior_stress, np.float64).reshape(-1)
    out = {"probs": probs, "va": va, "stress": stress}
    for name in config.extra_targets:
        out[name] = np.asarray(raw[name], np.float64).reshape(-1)
    return out


@functools.lru_cache(maxsize=64)
def _prior_tables(classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    from core.model.prior import class_tables

    return class_tables(list(classes))


def _prior_numpy(probs: np.ndarray, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """core.model.prior.prior_va_stress on a float32 (B, K) array, in numpy (same formula and
    float32 results, without a torch round trip per frame on the live path)."""
    from core.model.prior import STRESS_UNDECIDED

    va_t, stress_t = _prior_tables(tuple(classes))
    if probs.shape[-1] != len(classes):
        raise ValueError(f"probs have {probs.shape[-1]} classes, the table {len(classes)}")
    total = probs.sum(-1, keepdims=True)
    ok = total > 0
    w = probs / np.maximum(total, np.float32(1e-12))
    va = np.where(ok, w @ va_t, np.float32(0.0)).astype(np.float32)
    stress = np.where(ok[:, 0], w @ stress_t, np.float32(STRESS_UNDECIDED)).astype(np.float32)
    return va, stress


@dataclass(kw_only=True)
class FacePrediction:
    """One face: emotion distribution, valence/arousal in [-1, 1], stress in [0, 1].

    bbox (x, y, w, h), score, keypoints (5, 2) and quality are in frame pixels and set only by
    predict_frame; flags say which numbers are trained outputs and which are the prior.
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
    extra: dict[str, float] = field(default_factory=dict)  # config.extra_targets, raw values

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
        }


def to_predictions(post: dict[str, np.ndarray], config: ModelConfig,
                   faces: list | None = None) -> list[FacePrediction]:
    """One FacePrediction per row of postprocess()'s arrays; faces (core.faces.Face) add the
    box, score, keypoints and quality."""
    flags = head_flags(config)
    out = []
    for i, row in enumerate(post["probs"]):
        top = int(np.argmax(row))
        face = faces[i] if faces is not None else None
        out.append(FacePrediction(
            probs={c: float(p) for c, p in zip(config.classes, row)},
            emotion=config.classes[top], confidence=float(row[top]),
            valence=float(post["va"][i, 0]), arousal=float(post["va"][i, 1]),
            stress=float(post["stress"][i]), flags=dict(flags),
            extra={t: float(post[t][i]) for t in config.extra_targets},
            bbox=None if face is None else tuple(float(v) for v in face.bbox),
            score=None if face is None else float(face.score),
            keypoints=None if face is None else np.asarray(face.keypoints, np.float32),
            quality=None if face is None or face.quality is None else float(face.quality)))
    return out
