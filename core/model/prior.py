"""Valence/arousal and stress prior: their expectation under the predicted emotion distribution.

Used while the V/A or stress heads are untrained (the converted FER default). The per-emotion
tables come from core.rules (the same ones that derive labels from imported emotions):
- V/A: core.rules.VA_CIRCUMPLEX, Russell-circumplex coordinates in [-1, 1].
- stress: core.rules.STRESS_DEFAULT (Anger, Sad, Fear -> 1; Happy, Neutral -> 0). Emotions the
  rules leave without a stress label (Surprise, Disgust, Contempt: ambiguous) get
  STRESS_UNDECIDED = 0.5 here, the uninformative middle, so they pull the prior to neither side.
Classes outside these concepts (custom taxonomies) get V/A (0, 0) and stress 0.5.
"""
from __future__ import annotations

import numpy as np
import torch

from core.rules import STRESS_DEFAULT, VA_CIRCUMPLEX
from core.taxonomy import AFFECTNET8, concept

STRESS_UNDECIDED = 0.5
CIRCUMPLEX_VA: dict[str, tuple[float, float]] = {
    c: VA_CIRCUMPLEX.get(concept(c), (0.0, 0.0)) for c in AFFECTNET8}
STRESS_PRIOR: dict[str, float] = {
    c: STRESS_UNDECIDED if STRESS_DEFAULT.get(concept(c)) is None else STRESS_DEFAULT[concept(c)]
    for c in AFFECTNET8}


def class_tables(classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) valence/arousal and (K,) stress per class, matched by concept (any spelling)."""
    va = np.array([VA_CIRCUMPLEX.get(concept(c), (0.0, 0.0)) for c in classes], np.float32)
    stress = [STRESS_DEFAULT.get(concept(c)) for c in classes]
    return va, np.array([STRESS_UNDECIDED if s is None else s for s in stress], np.float32)


def prior_va_stress(probs: torch.Tensor | np.ndarray, classes: list[str]
                    ) -> tuple[torch.Tensor | np.ndarray, torch.Tensor | np.ndarray]:
    """(va (B, 2), stress (B,)) = E[table] under probs (B, K) (or (K,) as B=1); same array
    type as probs.

    Multi-label scores are normalised to sum 1 first; rows summing to 0 give V/A 0, stress 0.5.
    """
    va_t, stress_t = class_tables(classes)
    as_np = isinstance(probs, np.ndarray)
    p = torch.as_tensor(probs, dtype=torch.float32)
    if p.ndim == 1:
        p = p.unsqueeze(0)
    if p.shape[-1] != len(classes):
        raise ValueError(f"probs have {p.shape[-1]} classes, the table {len(classes)}")
    total = p.sum(-1, keepdim=True)
    ok = total > 0
    w = p / total.clamp_min(1e-12)
    va = torch.where(ok, w @ torch.as_tensor(va_t, device=p.device), 0.0)
    stress = torch.where(ok.squeeze(-1), w @ torch.as_tensor(stress_t, device=p.device),
                         STRESS_UNDECIDED)
    if as_np:
        return va.numpy(), stress.numpy()
    return va, stress
