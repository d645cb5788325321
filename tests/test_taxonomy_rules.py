"""Taxonomies, synonyms and codes; V/A scale normalisation; derivation rules."""
from __future__ import annotations

import math

import pytest

from core.rules import VA_TABLES, DerivationRules, normalise, to_unit
from core.taxonomy import AFFECTNET8, FER7, LabelError, get_taxonomy


@pytest.mark.parametrize("value,expected", [(0, "Neutral"), ("7", "Contempt"), (6.0, "Anger"),
                                            ("angry", "Anger"), ("HAPPINESS", "Happy"),
                                            (" sadness ", "Sad"), ("surprised", "Surprise"),
                                            ("fearful", "Fear"), ("disgusted", "Disgust")])
def test_affectnet_parse(value, expected):
    assert get_taxonomy().parse(value) == expected


def test_fer7_codes_and_custom_taxonomy():
    fer = get_taxonomy("fer7")
    assert [fer.parse(i) for i in range(7)] == FER7 and fer.parse("anger") == "Angry"
    custom = get_taxonomy("mine", ["calm", "stressed"])
    assert custom.parse(1) == "stressed" and custom.parse("Calm") == "calm"
    for bad in ("bored", 8, -1, None, float("nan"), True):
        with pytest.raises(LabelError):
            get_taxonomy().parse(bad)
    with pytest.raises(LabelError, match="repeats"):
        get_taxonomy("x", ["a", "A"])
    assert len(AFFECTNET8) == 8


def test_scales():
    assert normalise(5, "1..9") == 0.0 and normalise(9, "1..9") == 1.0 and normalise(1, "1..10") == -1.0
    assert normalise(0.25, "0..1") == -0.5 and normalise(-0.1234567, "-1..1") == -0.1234567
    assert normalise(4, "2..6") == 0.0 and to_unit(7, "1..9") == 0.75
    for bad, scale in ((10, "1..9"), (math.nan, "1..9"), (math.inf, "0..1")):
        with pytest.raises(LabelError):
            normalise(bad, scale)
    with pytest.raises(LabelError):
        normalise(1, "9..1")


def test_derivation_rules():
    assert VA_TABLES["openface"]["happy"] == (1.0, 1.0) and VA_TABLES["openface"]["anger"] == (-1.0, 1.0)
    assert VA_TABLES["openface"]["neutral"] == (0.0, 0.0)
    rules = DerivationRules(va_table="openface")
    assert rules.derive("Angry") == {"stress": 1.0, "valence": -1.0, "arousal": 1.0}
    assert DerivationRules().derive("Happy") == {"stress": 0.0, "valence": None, "arousal": None}
    assert DerivationRules().derive("Surprise")["stress"] is None
    assert DerivationRules(stress=None, va_table="circumplex").derive("Sad")["valence"] < 0
