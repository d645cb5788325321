"""The one prior rule: V/A and stress from emotion probabilities, the head flags and the note text.

Used while the V/A or stress heads are untrained (the converted FER default). The per-emotion
tables come from core.rules (the same ones that derive labels from imported emotions):
- V/A: core.rules.VA_CIRCUMPLEX, Russell-circumplex coordinates in [-1, 1].
- stress: core.rules.STRESS_DEFAULT (Anger, Sad, Fear -> 1; Happy, Neutral -> 0). Emotions the
  rules leave without a stress label (Surprise, Disgust, Contempt: ambiguous) get
  STRESS_UNDECIDED = 0.5 here, the uninformative middle, so they pull the prior to neither side.
Classes outside these concepts (custom taxonomies) get V/A (0, 0) and stress 0.5.

Every path that reports a model's outputs (AffectNet.predict, the numpy post-processing of the
ONNX/TorchScript backends, validation during training, evaluation, prelabel, live, the model
card) goes through apply_prior and head_flags; every page shows PRIOR_NOTE / prior_note().
Works on numpy arrays and torch tensors alike without importing torch (the ONNX path has none).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.rules import STRESS_DEFAULT, VA_CIRCUMPLEX
from core.taxonomy import AFFECTNET8, concept

STRESS_UNDECIDED = 0.5
CIRCUMPLEX_VA: dict[str, tuple[float, float]] = {
    c: VA_CIRCUMPLEX.get(concept(c), (0.0, 0.0)) for c in AFFECTNET8}
STRESS_PRIOR: dict[str, float] = {
    c: STRESS_UNDECIDED if STRESS_DEFAULT.get(concept(c)) is None else STRESS_DEFAULT[concept(c)]
    for c in AFFECTNET8}
PRIOR_HEADS = ("va", "stress")  # heads that fall back to the prior when untrained
HEAD_NAMES = {"va": "V/A", "stress": "stress"}
PRIOR_NOTE = ("a prior derived from the emotion probabilities (circumplex table; the model has "
              "no trained head for it), not measured")


def head_flags(trained: Mapping[str, bool] | Any) -> dict[str, str]:
    """Where each head's number comes from: "trained" weights, the emotion-derived "prior"
    (untrained V/A or stress heads), or "untrained" (an emotion head with random weights, or an
    untrained dominance or named-target head, which have no prior).
    `trained` is a ModelConfig or its `trained` mapping."""
    t = getattr(trained, "trained", trained)
    flags = {"emotion": "trained" if t.get("emotion") else "untrained",
             **{h: "trained" if t.get(h) else "prior" for h in PRIOR_HEADS}}
    # heads without a prior (dominance, named targets): a ModelConfig lists the ones it has,
    # a mapping the ones it names
    extra = ((["dominance"] if trained.dominance else []) + list(trained.extra_targets)
             if hasattr(trained, "extra_targets") else [k for k in t if k not in flags])
    return flags | {h: "trained" if t.get(h) else "untrained" for h in extra}


def prior_note(flags: Mapping[str, str] | None) -> str:
    """"V/A and stress are <PRIOR_NOTE>." for the heads flagged "prior"; "" when none is."""
    heads = [HEAD_NAMES[h] for h in PRIOR_HEADS if (flags or {}).get(h) == "prior"]
    if not heads:
        return ""
    return f"{' and '.join(heads)} {'is' if len(heads) == 1 else 'are'} {PRIOR_NOTE}."


@functools.lru_cache(maxsize=64)
def _tables(classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    va = np.array([VA_CIRCUMPLEX.get(concept(c), (0.0, 0.0)) for c in classes], np.float32)
    stress = [STRESS_DEFAULT.get(concept(c)) for c in classes]
    return va, np.array([STRESS_UNDECIDED if s is None else s for s in stress], np.float32)


def class_tables(classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) valence/arousal and (K,) stress per class, matched by concept (any spelling)."""
    va, stress = _tables(tuple(classes))
    return va.copy(), stress.copy()


def prior_va_stress(probs: Any, classes: list[str]) -> tuple[Any, Any]:
    """(va (B, 2), stress (B,)) = E[table] under probs (B, K) (or (K,) as B=1); the same array
    type (numpy or torch, device kept) as probs, float32.

    Multi-label scores are normalised to sum 1 first; rows summing to 0 give V/A 0, stress 0.5.
    """
    va_t, stress_t = _tables(tuple(classes))
    is_np = not hasattr(probs, "new_tensor")
    p = np.asarray(probs, np.float32) if is_np else probs.float()
    if p.ndim == 1:
        p = p[None]
    if p.shape[-1] != len(classes):
        raise ValueError(f"probs have {p.shape[-1]} classes, the table {len(classes)}")
    if is_np:
        total = p.sum(-1, keepdims=True)
        w = p / np.maximum(total, np.float32(1e-12))
        ok = (total > 0).astype(np.float32)
    else:
        total = p.sum(-1, keepdim=True)
        w = p / total.clamp_min(1e-12)
        ok = (total > 0).float()
        va_t, stress_t = p.new_tensor(va_t), p.new_tensor(stress_t)
    va = (w @ va_t) * ok  # a zero row has w = 0, so V/A 0 either way
    stress = (w @ stress_t) * ok[:, 0] + STRESS_UNDECIDED * (1 - ok[:, 0])
    return va, stress


def apply_prior(probs: Any, va: Any, stress: Any, *, trained: Mapping[str, bool] | Any,
                classes: list[str]) -> tuple[Any, Any]:
    """The rule: an untrained V/A or stress head's output is replaced by its prior from probs.

    va (B, 2) and stress (B,) or (B, 1) keep their shape; trained heads pass through untouched.
    `trained` is a ModelConfig or its `trained` mapping.
    """
    flags = head_flags(trained)
    if all(flags[h] == "trained" for h in PRIOR_HEADS) or len(probs) == 0:
        return va, stress
    prior_va, prior_stress = prior_va_stress(probs, classes)
    if flags["va"] == "prior":
        va = prior_va
    if flags["stress"] == "prior":
        stress = prior_stress.reshape(tuple(stress.shape))
    return va, stress
