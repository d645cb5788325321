"""AppTest of Relabel on the richer schemas: multi-label chips (EMOTIC), a distribution edited by
classes and intensities (MOSEI), trait sliders (FIV2), dominance; each edit lands in the store and
in the history the page shows."""
from __future__ import annotations

import json

import pytest

from core.store.db import read_session
from core.store.labels import label_history
from core.store.models import Sample
from ui.text import md


def _key(at, suffix: str) -> str:
    """The editor's widget key prefix (rl-<sample>-<generation>), found by a widget's suffix."""
    widgets = [*at.button, *at.slider, *at.multiselect]
    return next(w.key for w in widgets if w.key and w.key.endswith(suffix)).rsplit("-", 1)[0]


def _sample(i: int) -> Sample:
    with read_session() as s:
        return s.get(Sample, i)


def _history_captions(at) -> list[str]:
    return [c.value for c in at.caption if " · " in c.value and "):" in c.value]


def test_multi_label_chips_toggle_with_keys_and_save_with_history(app_modes):
    at = app_modes("relabel", dataset_id=1, relabel_queue=[1, 2], annotator="ana")
    key = _key(at, "-c0")
    chips = {b.key: b for b in at.button if b.key and b.key.startswith(f"{key}-c") and b.key[-1].isdigit()}
    assert len(chips) == 26  # one chip per EMOTIC category
    assert chips[f"{key}-c0"].proto.type == "primary"  # Affection is on (imported label)
    assert chips[f"{key}-c16"].proto.type == "secondary"  # Happiness is off
    assert chips[f"{key}-c0"].proto.shortcut == "1" and chips[f"{key}-c10"].proto.shortcut == "b"
    assert not any(s.key == f"{key}-stress" for s in at.slider)  # EMOTIC has no stress
    at.button(key=f"{key}-c0").click().run()  # Affection off
    at.button(key=f"{key}-c16").click().run()  # Happiness on
    assert at.button(key=f"{key}-c16").proto.type == "primary"
    assert any(c.value == "chosen: Anger, Fear, Happiness" for c in at.caption)
    at.slider(key=f"{key}-d").set_value(0.4).run()
    at.button(key="save").click().run()
    assert not at.exception and at.success[0].value.startswith("Saved sample #1")
    smp = _sample(1)
    assert smp.cur_emotions == ["Anger", "Fear", "Happiness"] and smp.cur_dominance == pytest.approx(0.4)
    assert smp.cur_sources["emotions"] == "human" and smp.cur_sources["valence"] == "imported"
    at.button(key="back").click().run()  # the history the editor shows has the edit, in words
    assert md("emotions Anger, Fear, Happiness, dominance +0.40") in _history_captions(at)[0]
    at.button(key="undo").click().run()
    assert at.success[0].value.startswith("Restored emotions Affection, Anger, Fear")
    assert _sample(1).cur_emotions == ["Affection", "Anger", "Fear"]


def test_distribution_editor_normalises_live_and_saves(app_modes):
    at = app_modes("relabel", dataset_id=2, relabel_queue=[9], annotator="ana")
    key = _key(at, "-dist")
    assert at.multiselect(key=f"{key}-dist").value == ["Happy", "Sad"]  # {Happy .75, Sad .25}
    assert at.slider(key=f"{key}-int0").value == 3.0 and at.slider(key=f"{key}-int1").value == 1.0
    at.multiselect(key=f"{key}-dist").select("Fear").run()
    at.slider(key=f"{key}-int5").set_value(2.0).run()
    assert any(c.value == "distribution: Happy 50%, Fear 33%, Sad 17%" for c in at.caption)
    bars = [f for f in (json.loads(c.proto.spec) for c in at.get("plotly_chart"))
            if f["data"][0].get("orientation") == "h"]
    assert [round(x, 3) for x in bars[0]["data"][0]["x"]] == [0.5, 0.167, 0, 0, 0, 0.333]  # MOSEI order
    at.button(key="save").click().run()
    assert not at.exception and at.success[0].value.startswith("Saved sample #9")
    dist = _sample(9).cur_distribution
    assert dist == pytest.approx({"Happy": 0.5, "Sad": 1 / 6, "Fear": 1 / 3})
    with read_session() as s:
        h = label_history(s, 9)[0]
    assert h.annotator == "ana" and h.after["targets"] is None  # the sentiment was not touched


def test_trait_slider_edit_supersedes_only_that_trait(app_modes):
    at = app_modes("relabel", dataset_id=3, relabel_queue=[17], annotator="bo")
    key = _key(at, "-t0")
    assert [s.label for s in at.slider if s.key.startswith(f"{key}-t")] == [
        "extraversion", "neuroticism", "agreeableness", "conscientiousness", "openness", "interview"]
    before = dict(_sample(17).cur_targets)
    at.slider(key=f"{key}-t0").set_value(0.9).run()
    at.button(key="save").click().run()
    assert not at.exception and at.success[0].value.startswith("Saved sample #17")
    smp = _sample(17)
    assert smp.cur_targets == {**before, "extraversion": 0.9}
    assert smp.cur_sources["target:extraversion"] == "human" and smp.cur_sources["target:openness"] == "imported"
    at.button(key="back").click().run()
    assert md("extraversion 0.90") in _history_captions(at)[0]


def test_accepting_a_multi_label_prediction_takes_every_category_above_its_threshold(app_modes):
    from core.store.db import write_session
    from core.store.predictions import record_predictions

    with write_session() as s, s.begin():
        record_predictions(s, [{"sample_id": 3, "model_version": "m", "probs": {}, "emotion": None,
                                "flags": {"dominance": "prior"},
                                "outputs": {"emotions": {"Pain": 0.7, "Fear": 0.4, "Peace": 0.2},
                                            "thresholds": {"Pain": 0.5, "Fear": 0.3, "Peace": 0.5},
                                            "dominance": 0.9}}])
    at = app_modes("relabel", dataset_id=1, relabel_queue=[3], annotator="ana")
    assert "model says **Pain, Fear**" in " ".join(m.value for m in at.markdown)
    at.button(key="accept").click().run()
    assert not at.exception and at.success[0].value.startswith("Saved sample #3")
    smp = _sample(3)  # class order; the dominance was a prior, so the label's stays
    assert smp.cur_emotions == ["Fear", "Pain"] and smp.cur_dominance == pytest.approx(-0.2)
    with read_session() as s:
        assert label_history(s, 3)[0].prediction_id is not None
