"""Label rules: V/A scale normalisation and derivation of stress and V/A from an emotion."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.taxonomy import LabelError, concept

# Named source scales for valence/arousal: name -> (low, high)
SCALES: dict[str, tuple[float, float]] = {
    "-1..1": (-1.0, 1.0), "0..1": (0.0, 1.0), "1..2": (1.0, 2.0),
    "1..9": (1.0, 9.0), "1..10": (1.0, 10.0), "0..10": (0.0, 10.0),
}


def parse_scale(scale: str | tuple[float, float]) -> tuple[float, float]:
    if isinstance(scale, tuple):
        return scale
    if scale in SCALES:
        return SCALES[scale]
    try:
        lo, hi = (float(p) for p in scale.split(".."))
    except ValueError:
        raise LabelError(f"V/A scale {scale!r} is not LOW..HIGH (e.g. 1..9)") from None
    if not hi > lo:
        raise LabelError(f"V/A scale {scale!r} has high <= low")
    return lo, hi


def to_unit(value: float, scale: str | tuple[float, float], *, what: str = "value") -> float:
    """Map a value on the source scale to [0, 1]; NaN or out-of-range is a LabelError."""
    lo, hi = parse_scale(scale)
    if value is None or not math.isfinite(float(value)):
        raise LabelError(f"{what} is {value!r}, not a finite number")
    v = float(value)
    tol = 1e-9 * (hi - lo)
    if not lo - tol <= v <= hi + tol:
        raise LabelError(f"{what} {v} is outside the scale {lo:g}..{hi:g}")
    return v if (lo, hi) == (0.0, 1.0) else max(0.0, min(1.0, (v - lo) / (hi - lo)))


def normalise(value: float, scale: str | tuple[float, float], *, what: str = "value") -> float:
    """Map a value on the source scale to [-1, 1] (exactly, when the scale is already -1..1)."""
    if parse_scale(scale) == (-1.0, 1.0):
        to_unit(value, scale, what=what)  # validates
        return float(value)
    return max(-1.0, min(1.0, 2.0 * to_unit(value, scale, what=what) - 1.0))


# Stress from emotion, by concept. The OpenFace pipeline we replace set Anger and Sad -> 1,
# Happy and Neutral -> 0. Our default adds Fear -> 1 (negative valence, high arousal: the classic
# stress response) and leaves Surprise, Disgust and Contempt without a derived stress label
# (None: ambiguous, so training masks them instead of learning a guess).
STRESS_DEFAULT: dict[str, float | None] = {
    "anger": 1.0, "sad": 1.0, "fear": 1.0, "happy": 0.0, "neutral": 0.0,
    "surprise": None, "disgust": None, "contempt": None,
}

# V/A per emotion. "openface": the table of the OpenFace pipeline, given on its 1..2 scale.
VA_OPENFACE_1TO2: dict[str, tuple[float, float]] = {
    "happy": (2.0, 2.0), "sad": (1.0, 1.0), "anger": (1.0, 2.0), "neutral": (1.5, 1.5),
}
# "circumplex": Russell-style coordinates in [-1, 1] (valence, arousal), close to the class
# means reported for AffectNet; also the prior the untrained model heads use.
VA_CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0), "happy": (0.8, 0.4), "sad": (-0.7, -0.3), "surprise": (0.2, 0.7),
    "fear": (-0.6, 0.7), "disgust": (-0.7, 0.4), "anger": (-0.6, 0.8), "contempt": (-0.5, 0.3),
}
VA_TABLES: dict[str, dict[str, tuple[float, float]]] = {
    "openface": {k: (normalise(v, "1..2"), normalise(a, "1..2"))
                 for k, (v, a) in VA_OPENFACE_1TO2.items()},
    "circumplex": VA_CIRCUMPLEX,
}


@dataclass
class DerivationRules:
    """Which derived labels to add to imported emotions (stored with source=derived)."""
    stress: dict[str, float | None] | None = field(default_factory=lambda: dict(STRESS_DEFAULT))
    va_table: str | None = None  # None, "openface" or "circumplex"

    def derive(self, emotion: str) -> dict[str, float | None]:
        """Derived stress / valence / arousal for an emotion name (None where no rule)."""
        c = concept(emotion)
        out: dict[str, float | None] = {"stress": None, "valence": None, "arousal": None}
        if self.stress is not None:
            out["stress"] = self.stress.get(c)
        if self.va_table:
            va = VA_TABLES[self.va_table].get(c)
            if va is not None:
                out["valence"], out["arousal"] = va
        return out

    def to_dict(self) -> dict:
        return {"stress": self.stress, "va_table": self.va_table}
