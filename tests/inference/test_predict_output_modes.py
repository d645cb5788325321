"""`affectlab predict` text output for multi-label, dominance and named-target models."""
from __future__ import annotations

from cli.model import format_predictions


def _face(**kw) -> dict:
    return {"emotion": "Joy", "confidence": 0.8, "probs": {"Joy": 0.8, "Fear": 0.6, "Pain": 0.1},
            "valence": 0.25, "arousal": -0.5, "stress": 0.4} | kw


def test_predict_lines_per_mode():
    result = {"files": [{"file": "a.jpg", "faces": [
        _face(),
        _face(mode="multi", emotions=["Joy", "Fear"], dominance=-0.125),
        _face(mode="multi", emotions=[]),
        _face(mode="distribution", targets={"openness": 0.625})]}]}
    lines = format_predictions(result).splitlines()
    assert lines[0] == "a.jpg: Joy 0.80  V +0.25 A -0.50 stress 0.40"
    assert lines[1] == "a.jpg: Joy 0.80, Fear 0.60  V +0.25 A -0.50 D -0.12 stress 0.40"
    assert lines[2].startswith("a.jpg: no category  V")
    assert lines[3] == "a.jpg: Joy 0.80  V +0.25 A -0.50 stress 0.40  openness 0.62"
