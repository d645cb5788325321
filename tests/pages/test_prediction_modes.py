"""The richer per-face outputs shown on Upload (ui.prediction_modes): categories above threshold,
a distribution as bars, dominance and named targets as bars flagged trained / untrained."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from core.inference.prediction import FacePrediction
from ui.prediction_modes import face_columns, trait_values


def _face(**kw) -> FacePrediction:
    base = {"probs": {"Anger": 0.8, "Fear": 0.6, "Pain": 0.1}, "emotion": "Anger", "confidence": 0.8,
            "valence": 0.0, "arousal": 0.0, "stress": 0.5, "flags": {"emotion": "trained"}}
    return FacePrediction(**(base | kw))


def test_face_columns_and_trait_values():
    multi = _face(mode="multi", emotions=["Anger", "Fear"], dominance=0.25, targets={"openness": 0.7},
                  flags={"emotion": "trained", "dominance": "trained", "openness": "untrained"})
    assert face_columns(multi) == {"categories": "Anger, Fear", "dominance": 0.25, "openness": 0.7}
    assert face_columns(_face()) == {}  # a single-label model adds nothing
    values, ranges, flags = trait_values(multi, {"openness": [0.0, 1.0]})
    assert values == {"dominance": 0.25, "openness": 0.7} and ranges["dominance"] == (-1.0, 1.0)
    assert flags == {"dominance": "trained", "openness": "untrained"}


def _page() -> None:
    from core.inference.prediction import FacePrediction
    from ui.prediction_modes import rich_predictions_ui

    base = {"emotion": "Happy", "confidence": 0.6, "valence": 0.0, "arousal": 0.0, "stress": 0.5}
    preds = [FacePrediction(probs={"Happy": 0.6, "Sad": 0.4}, mode="distribution", flags={}, **base),
             FacePrediction(probs={"Anger": 0.9, "Pain": 0.2}, mode="multi", emotions=["Anger"],
                            targets={"extraversion": 0.3, "sentiment": 1.5},
                            flags={"extraversion": "trained", "sentiment": "untrained"}, **base),
             FacePrediction(probs={"Happy": 1.0}, flags={}, **base)]
    rich_predictions_ui(preds, ranges={"extraversion": [0, 1], "sentiment": [-3, 3]}, key="t")


def test_rich_predictions_ui_draws_distribution_categories_and_flagged_traits():
    at = AppTest.from_function(_page).run()
    assert not at.exception, at.exception
    assert any(m.value == "**Face 2**: Anger" for m in at.markdown)
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(figs) == 2  # face 1's distribution, face 2's traits; face 3 is single-label
    assert figs[0]["data"][0]["x"] == [0.6, 0.4]
    traits = figs[1]["data"][0]
    assert traits["y"] == ["extraversion", "sentiment (untrained)"] and traits["marker"]["color"][1] == "#bbbbbb"
    assert any("sentiment untrained" in c.value for c in at.caption)


def test_emotion_and_traits_text_follow_the_mode():
    from core.overlay import emotion_text, traits_text

    assert emotion_text(_face()) == "Anger 80%"
    assert emotion_text(_face(mode="multi", emotions=["Anger", "Fear"])) == "Anger, Fear"
    assert emotion_text(_face(mode="multi", emotions=[])) == "no category"
    dist = _face(mode="distribution", probs={"Happy": 0.3, "Sad": 0.6, "Fear": 0.1})
    assert emotion_text(dist) == "Sad 60%, Happy 30%"
    traits = _face(dominance=0.2, targets={"openness": 0.61}, flags={"openness": "untrained"})
    assert traits_text(traits) == "dominance +0.20 · openness 0.61 (untrained)" and traits_text(_face()) == ""
