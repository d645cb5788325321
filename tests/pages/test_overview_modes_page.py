"""AppTest of Overview with the richer schemas: each dataset's label schema, labelled counts per
mode, samples per category, recent edits of multi-label / distribution / trait labels in words."""
from __future__ import annotations

import json

from core.store.db import write_session
from core.store.labels import edit_label
from core.store.models import Sample


def test_overview_shows_each_label_schema_and_category_counts(app_modes):
    with write_session() as s, s.begin():
        for sid, values in ((1, {"emotions": ["Fear", "Pain"]}), (9, {"distribution": {"Fear": 1}}),
                            (17, {"targets": {"openness": 0.25}})):
            edit_label(s, sid, base_annotation_id=s.get(Sample, sid).cur_annotation_id, annotator="ana", **values)
    at = app_modes()
    table = next(d.value for d in at.dataframe if "labels" in d.value.columns)
    assert list(table["name"]) == ["emotic", "mosei", "fiv2"] and list(table["labelled"]) == [8, 8, 8]
    schemas = dict(zip(table["name"], table["labels"]))
    assert schemas["emotic"] == "multi-label · 26 classes (emotic26) · V/A/D on 1..10 · no stress"
    assert schemas["mosei"] == "distribution · 6 classes (mosei6) · V/A on -1..1 · no stress · targets: sentiment -3..3"
    assert "targets: extraversion 0..1, neuroticism 0..1" in schemas["fiv2"]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]  # fiv2 has no emotion labels
    assert len(charts) == 2 and any(c.value == "No sample has an emotion label yet." for c in at.caption)
    assert charts[0]["layout"]["yaxis"]["title"]["text"] == "samples with the category"
    bars = dict(zip(charts[0]["data"][0]["x"], charts[0]["data"][0]["y"]))
    assert bars["Anger"] == 1 and bars["Fear"] == 1 and bars["Pain"] == 1  # sample 1 is now Fear, Pain
    assert charts[1]["layout"]["yaxis"]["title"]["text"] == "samples (dominant class)"
    edits = next(d.value for d in at.dataframe if "who" in d.value.columns)
    assert list(edits["sample"]) == [17, 9, 1]
    assert list(edits["emotions"])[2] == "Fear, Pain" and list(edits["distribution"])[1] == "Fear 100%"
    assert list(edits["targets"])[0] == "openness 0.25"
