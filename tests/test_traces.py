"""core.traces: resampling, CCC and sign agreement against hand values, consensus, frame-aligned export."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from core.traces import (
    TraceError,
    agreement,
    ccc,
    consensus,
    export_csv,
    grid,
    make_trace,
    resample,
    sign_agreement,
)


def test_make_trace_sorts_keeps_last_of_a_repeated_time_and_marks_untraced():
    tr = make_trace("a", {"t": [0.2, 0.0, 0.2], "valence": [0.5, 0.1, 0.7], "arousal": None})
    assert tr.t.tolist() == [0.0, 0.2]
    assert tr.valence.tolist() == [0.1, 0.7]
    assert np.isnan(tr.arousal).all()


@pytest.mark.parametrize("samples, message", [
    ({"t": []}, "no samples"),
    ({"t": [0, 1], "valence": [0.1]}, "1 valence values for 2 times"),
    ({"t": [0, 1], "valence": [0.1, 1.5]}, "valence outside -1..1"),
    ({"t": [-1, 1], "valence": [0.1, 0.2]}, "finite seconds"),
])
def test_bad_traces_are_refused_with_the_reason(samples, message):
    with pytest.raises(TraceError, match=message):
        make_trace("x", samples)


def test_resample_is_linear_inside_and_nan_outside_the_span():
    tr = make_trace("a", {"t": [1.0, 2.0], "valence": [0.0, 1.0], "arousal": [0.2, 0.2]})
    out = resample(tr, np.array([0.5, 1.0, 1.25, 2.0, 2.5]), "valence")
    assert np.isnan(out[0]) and np.isnan(out[4])
    assert out[1:4].tolist() == [0.0, 0.25, 1.0]
    assert grid([tr], rate_hz=2).tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_ccc_matches_hand_values():
    x = np.array([1.0, 2.0, 3.0])
    # identical: 1; a shift by 1: 2*cov / (var+var+1) = 2*(2/3) / (4/3 + 1) = 4/7
    assert ccc(x, x) == pytest.approx(1.0)
    assert ccc(x, x + 1) == pytest.approx(4 / 7)
    assert ccc(x, -x) == pytest.approx(-1 / 13)  # 2*(-2/3) / (4/3 + (2-(-2))^2)
    assert ccc(np.array([1.0, np.nan]), np.array([1.0, 2.0])) is None


def test_sign_agreement_counts_same_direction_steps_with_a_dead_band():
    x = np.array([0.0, 0.1, 0.2, 0.2, 0.1])  # up, up, flat, down
    y = np.array([0.0, 0.5, 0.4, 0.405, 0.3])  # up, down, flat (<eps), down
    assert sign_agreement(x, y) == pytest.approx(3 / 4)


def test_agreement_absolute_and_relative():
    t = np.arange(0, 2.01, 0.1)
    base = np.sin(t * 3) * 0.5
    a = make_trace("a", {"t": t, "valence": base, "arousal": base})
    b = make_trace("b", {"t": t, "valence": base + 0.3, "arousal": -base})  # shifted; opposite
    c = make_trace("c", {"t": t, "valence": base, "arousal": base})
    rep = agreement([a, b, c], grid([a, b, c], 10))
    v, ar = rep["valence"], rep["arousal"]
    assert len(v["pairs"]) == 3
    # a shift hurts absolute CCC but not the relative measures
    assert v["ccc"] < 0.9 and v["ccc_diff"] == pytest.approx(1.0) and v["sign"] == pytest.approx(1.0)
    assert ar["ccc"] < 0 and ar["ccc_diff"] < 0  # b moves against a and c in arousal
    pair_ac = next(p for p in ar["pairs"] if (p["a"], p["b"]) == ("a", "c"))
    assert pair_ac["ccc"] == pytest.approx(1.0)
    assert ar["ccc"] == pytest.approx(np.mean([p["ccc"] for p in ar["pairs"]]))


def test_consensus_means_the_traces_covering_each_time():
    a = make_trace("a", {"t": [0, 1], "valence": [0.0, 1.0], "arousal": [0.0, 0.0]})
    b = make_trace("b", {"t": [0.5, 1], "valence": [-1.0, -1.0], "arousal": [1.0, 1.0]})
    cons = consensus([a, b], np.array([0.0, 0.5, 1.0, 1.5]))
    assert cons["valence"][:3].tolist() == [0.0, (0.5 - 1) / 2, 0.0] and np.isnan(cons["valence"][3])
    assert cons["arousal"][:3].tolist() == [0.0, 0.5, 0.5]


def test_export_is_aligned_to_the_media_frames():
    a = make_trace("ana", {"t": [0.0, 1.0], "valence": [0.0, 1.0], "arousal": [0.0, -1.0]})
    b = make_trace("bo", {"t": [0.0, 0.5], "valence": [1.0, 1.0], "arousal": None})
    rows = list(csv.DictReader(io.StringIO(export_csv([a, b], fps=4, frames=5))))
    assert [r["frame"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert [r["time"] for r in rows] == ["0.0000", "0.2500", "0.5000", "0.7500", "1.0000"]
    assert rows[1]["ana_valence"] == "0.2500" and rows[1]["ana_arousal"] == "-0.2500"
    assert rows[3]["bo_valence"] == "" and rows[0]["bo_arousal"] == ""
    assert rows[2]["consensus_valence"] == "0.7500"  # (0.5 + 1) / 2
    assert rows[4]["consensus_valence"] == "1.0000" and rows[4]["consensus_arousal"] == "-1.0000"
    with pytest.raises(TraceError, match="frame rate"):
        export_csv([a], fps=0, frames=5)
