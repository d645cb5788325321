"""Shared bits of the live tests: cached assets and synthetic predictions."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.config import REPO_ROOT
from core.inference.prediction import FacePrediction

ASSETS = REPO_ROOT / "data" / "assets"

CLASSES = ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt")


def cached_asset(name: str) -> Path:
    """A cached asset (never downloaded); skips when `python -m core assets` has not run."""
    path = ASSETS / name
    if not path.exists():
        pytest.skip(f"asset {name} not cached in {ASSETS} (run `python -m core assets` once)")
    return path


def face(*, emotion: str = "Happy", p: float = 0.8, va: tuple[float, float] = (0.6, 0.4),
         stress: float = 0.2, prior: bool = True, bbox=(200.0, 150.0, 120.0, 120.0)) -> FacePrediction:
    """One face: p on emotion, the rest spread evenly; V/A and stress flagged prior or trained."""
    probs = {c: (p if c == emotion else (1 - p) / 7) for c in CLASSES}
    flag = "prior" if prior else "trained"
    return FacePrediction(probs=probs, emotion=emotion, confidence=p, valence=va[0], arousal=va[1],
                          stress=stress, flags={"emotion": "trained", "va": flag, "stress": flag},
                          bbox=bbox, score=0.9)
