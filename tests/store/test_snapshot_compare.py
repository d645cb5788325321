"""core.store.snapshot_compare: a run's predictions against the snapshot it trained on and a later one."""
from __future__ import annotations

import pytest

from core.store.labels import edit_label
from core.store.models import Run, Sample
from core.store.predictions import record_predictions
from core.store.snapshot_compare import compare_with_snapshot
from core.store.snapshots import create_snapshot
from core.taxonomy import AFFECTNET8
from tests.store.seed import seed_samples


def _probs(cls: str) -> dict[str, float]:
    return {c: (0.9 if c == cls else 0.1 / 7) for c in AFFECTNET8}


def test_the_model_was_right_and_the_label_wrong(write, read):
    """8 samples labelled AFFECTNET8[i]; the run predicts the true class except on sample 8. After
    training, samples 1 and 2 are relabelled to what the model said (it was right); sample 3 is
    relabelled to a class the model did not say; sample 8's label changes to the model's guess."""
    with write() as s, s.begin():
        ds = seed_samples(s, 8, dataset="d")
        create_snapshot(s, "d", "v1")
        run = Run(name="r", dataset_id=ds.id, status="succeeded", config={"dataset": "d", "snapshot": "v1"})
        s.add(run)
        s.flush()
        truth = {i: s.get(Sample, i).cur_emotion for i in range(1, 9)}
        said = {**truth, 1: "Contempt", 2: "Anger", 8: "Happy"}  # the labels of 1, 2 were wrong
        record_predictions(s, [{"sample_id": i, "model_version": "r", "run_id": run.id, "probs": _probs(said[i])}
                               for i in range(1, 9)])
        for i, cls in ((1, "Contempt"), (2, "Anger"), (3, "Fear"), (8, "Happy")):
            edit_label(s, i, base_annotation_id=s.get(Sample, i).cur_annotation_id, annotator="ana", emotion=cls)
        create_snapshot(s, "d", "v2")
    with read() as s:
        out = compare_with_snapshot(s, run.id, "v2")
    assert out["trained_on"] == "v1" and out["compared"] == 8 and out["changed"] == 4
    assert out["verdicts"] == {"model was right": 3, "model followed the old label": 1, "neither": 0}
    by_id = {c["sample_id"]: c for c in out["samples"]}
    assert by_id[1] == {"sample_id": 1, "before": truth[1], "after": "Contempt", "predicted": "Contempt",
                        "verdict": "model was right"}
    assert by_id[3]["verdict"] == "model followed the old label" and by_id[3]["predicted"] == truth[3]
    assert out["accuracy_trained_on"] == pytest.approx(5 / 8) and out["accuracy_later"] == pytest.approx(7 / 8)


def test_a_run_without_a_snapshot_or_an_unknown_one_is_a_clear_error(write, read):
    with write() as s, s.begin():
        ds = seed_samples(s, 4, dataset="d")
        old = Run(name="old", dataset_id=ds.id, status="succeeded", config={"dataset": "d"})
        s.add(old)
        create_snapshot(s, "d", "v1")
        new = Run(name="new", dataset_id=ds.id, status="succeeded", config={"dataset": "d", "snapshot": "v1"})
        s.add(new)
        s.flush()
    with read() as s:
        with pytest.raises(LookupError, match="records no snapshot"):
            compare_with_snapshot(s, old.id, "v1")
        with pytest.raises(LookupError, match="no snapshot named 'v9'"):
            compare_with_snapshot(s, new.id, "v9")
        with pytest.raises(LookupError, match="run 99 does not exist"):
            compare_with_snapshot(s, 99, "v1")
