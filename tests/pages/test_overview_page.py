"""AppTest of app.py's Overview page against a seeded SQLite store."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.splits import split_dataset
from tests.store.seed import seed_samples


def test_overview_lists_datasets_with_counts_and_balance(write):
    with write() as s, s.begin():
        seed_samples(s, 30, dataset="demo")
        ds = seed_samples(s, 12, dataset="other", seed=2, labelled=0.5)
        split_dataset(s, ds.id, "70/15/15")
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "AffectLab"
    assert [h.value for h in at.subheader] == ["demo", "other", "Recent edits", "Recent runs"]
    metrics = {(m.label, m.value) for m in at.metric}
    assert ("samples", "30") in metrics and ("samples", "12") in metrics
    table = at.dataframe[0].value
    assert list(table["name"]) == ["demo", "other"] and list(table["samples"]) == [30, 12]
    assert len(at.get("plotly_chart")) == 2
    assert at.sidebar.text_input[0].value == ""  # no name until the annotator gives one
    assert any("labelled per task: emotion 30 (100%)" in c.value for c in at.caption)
    assert any(c.value == "No human edits yet." for c in at.caption)


def test_overview_shows_recent_edits(write):
    from core.store.labels import edit_label
    from core.store.models import Sample

    with write() as s, s.begin():
        seed_samples(s, 5, dataset="demo")
        edit_label(s, 2, base_annotation_id=s.get(Sample, 2).cur_annotation_id, annotator="ana", emotion="Sad")
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=30).run()
    edits = next(d.value for d in at.dataframe if "who" in d.value.columns)
    assert list(edits["who"]) == ["ana"] and list(edits["emotion"]) == ["Sad"]


def test_overview_on_empty_store_builds_the_demo(env):
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert "demo" in [h.value for h in at.subheader]


def test_predictions_are_not_label_coverage_and_undo_rows_say_what_they_did(write):
    from core.store.labels import edit_label, undo_last
    from core.store.models import Sample
    from core.store.predictions import record_predictions

    with write() as s, s.begin():
        seed_samples(s, 4, dataset="demo", labelled=0.0)  # no labels, but every sample predicted
        record_predictions(s, [{"sample_id": i, "model_version": "m", "probs": {"Happy": 1.0}}
                               for i in range(1, 5)])
        edit_label(s, 2, base_annotation_id=None, annotator="ana", emotion="Sad")
        edit_label(s, 2, base_annotation_id=s.get(Sample, 2).cur_annotation_id, annotator="ana",
                   emotion="Fear")
        undo_last(s, 2, base_annotation_id=s.get(Sample, 2).cur_annotation_id, annotator="ana")
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if "labelled per task" in c.value)
    assert "emotion 1 (25%)" in caption and "prediction 4" not in caption
    assert "model predictions (not labels) for 4 samples" in caption
    edits = next(d.value for d in at.dataframe if "who" in d.value.columns)
    assert list(edits["action"][1:]) == ["edit", "edit"]
    assert edits["action"][0].startswith("undo of #") and edits["emotion"][0] == "Sad"  # restored
    assert list(edits["emotion"][1:]) == ["Fear", "Sad"]
