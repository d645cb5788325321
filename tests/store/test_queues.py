"""core.store.queues: the cleanlab "likely wrong" queue finds injected label errors from
out-of-sample predictions and ignores in-sample ones; the other queues."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from core.store.labels import edit_label, undo_last
from core.store.models import Dataset, Run, Sample
from core.store.predictions import record_predictions
from core.store.queues import likely_wrong, out_of_sample_predictions, relabel_queue
from core.taxonomy import AFFECTNET8, FER7
from tests.label_quality_data import store_generated
from tests.store.seed import seed_samples

N, NOISE, K = 240, 24, 8


def _probs(true: int, rng: np.random.Generator, classes: list[str] = AFFECTNET8) -> dict[str, float]:
    """A decent model (right about 85% of the time): logits peaked at the true class, plus noise."""
    logits = rng.normal(0, 1.0, len(classes))
    logits[true] += 2.5
    p = np.exp(logits) / np.exp(logits).sum()
    return {c: float(v) for c, v in zip(classes, p)}


def _noisy_store(s, seed: int = 0) -> set[int]:
    """N samples labelled AFFECTNET8[i % 8]; NOISE of them relabelled (by a careless human) to a
    wrong class; out-of-sample predictions from the true classes. Returns the wrong ids."""
    rng = np.random.default_rng(seed)
    seed_samples(s, N, dataset="noisy")
    wrong = {int(i) + 1 for i in rng.choice(N, NOISE, replace=False)}
    for sid in sorted(wrong):
        true = (sid - 1) % K
        bad = AFFECTNET8[(true + int(rng.integers(1, K))) % K]
        edit_label(s, sid, base_annotation_id=s.get(Sample, sid).cur_annotation_id,
                   annotator="careless", emotion=bad)
    record_predictions(s, [{"sample_id": sid, "model_version": "external", "split": "train",
                            "probs": _probs((sid - 1) % K, rng)} for sid in range(1, N + 1)])
    return wrong


def test_likely_wrong_ranks_injected_label_errors_first(write, read):
    with write() as s, s.begin():
        wrong = _noisy_store(s)
    with read() as s:
        queue = likely_wrong(s, 1, limit=N)
    top = queue[:NOISE]
    precision = len(set(top) & wrong) / NOISE
    recall_2k = len(set(queue[:2 * NOISE]) & wrong) / NOISE
    print(f"precision@{NOISE} = {precision:.2f}, recall@{2 * NOISE} = {recall_2k:.2f}")
    assert precision >= 0.75 and recall_2k >= 0.9  # the old disagreement order: 0.63 on such data
    assert len(queue) < N  # labels the model confidently agrees with are not queued


def test_in_sample_predictions_are_ignored(write, read):
    """A run that trained on the noisy 'train' split memorised the wrong labels: its predictions
    on that split must not hide the errors; its held-out predictions do count."""
    with write() as s, s.begin():
        wrong = _noisy_store(s)
        s.add(Run(id=1, name="fit", dataset_id=1, status="succeeded", config={"train_split": "train"}))
        s.flush()
        memorised = [{"sample_id": sid, "run_id": 1, "model_version": "run-1", "split": "train",
                      "probs": {c: (0.99 if c == s.get(Sample, sid).cur_emotion else 0.01 / 7)
                                for c in AFFECTNET8}} for sid in range(1, N + 1)]
        record_predictions(s, memorised)  # newest, but in-sample
        record_predictions(s, [{**memorised[0], "split": "test"}])  # held out: counts
    with read() as s:
        rows = {r[0]: r for r in out_of_sample_predictions(s, 1)}
        assert rows[1][2][s.get(Sample, 1).cur_emotion] == pytest.approx(0.99)  # the held-out row
        assert rows[2][2] != memorised[1]["probs"] and rows[2][3] >= set(AFFECTNET8)
        queue = likely_wrong(s, 1, limit=N)
    assert len(set(queue[:NOISE]) & wrong) / NOISE >= 0.7


def test_classes_the_model_cannot_predict_are_left_out(write, read):
    """The 7-class FER default gives Contempt 0 by construction: not evidence of a wrong label."""
    happy = {c: 0.9 if c == "Happy" else 0.1 / 6 for c in FER7}
    with write() as s, s.begin():
        seed_samples(s, 16, dataset="d")
        record_predictions(s, [{"sample_id": sid, "model_version": "fer7", "probs": happy}
                               for sid in range(1, 17)])
    with read() as s:
        queue = likely_wrong(s, 1)
        contempt = [i for i in range(1, 17) if s.get(Sample, i).cur_emotion == "Contempt"]
        happy_ids = [i for i in range(1, 17) if s.get(Sample, i).cur_emotion == "Happy"]
    assert contempt and not set(contempt) & set(queue)
    assert queue and not set(happy_ids) & set(queue)  # the rest is predicted Happy: doubtful
    assert len(queue) == 16 - len(contempt) - len(happy_ids)


def test_other_queues(write, read):
    with write() as s, s.begin():
        seed_samples(s, 20, dataset="d", labelled=0.5)
    with read() as s:
        unlabelled = relabel_queue(s, 1, "unlabelled")
        assert unlabelled and all(s.get(Sample, i).cur_emotion is None for i in unlabelled)
        assert relabel_queue(s, 1, "in order", limit=5) == [1, 2, 3, 4, 5]
        assert sorted(relabel_queue(s, 1, "random", seed=1, limit=50)) == list(range(1, 21))
        assert relabel_queue(s, 1, "likely wrong") == []  # no predictions yet
        with pytest.raises(ValueError, match="unknown queue"):
            relabel_queue(s, 1, "sideways")


# --- the label-issue queues (cross-validated / held-out) and the active-learning queue ---

def test_cross_validated_likely_wrong_finds_flips_and_records_its_source(write, read):
    from core.store.learning_queues import likely_wrong_queue
    from tests.label_quality_data import classes

    data = classes(n=240, k=K, n_videos=30, seed=5)  # 24 labels flipped
    with write() as s, s.begin():
        store_generated(s, data)
    with read() as s:
        q = likely_wrong_queue(s, 1, limit=240)  # no predictions stored: auto -> cross-val
        assert relabel_queue(s, 1, "likely wrong", limit=240) == q.ids
    wrong = {i + 1 for i in np.flatnonzero(data.wrong)}
    assert q.source == "cross-val" and q.field == "emotion"
    assert q.detail["features"] == "gen" and q.detail["folds"] == 5 and q.detail["rows"] == 240
    assert "logistic regression" in q.detail["model"]
    assert len(set(q.ids[:12]) & wrong) >= 10  # top 5%: chance would be 1.2
    assert q.scores == sorted(q.scores) and len(q.ids) < 240


def test_auto_source_prefers_held_out_predictions(write, read):
    from core.store.learning_queues import likely_wrong_queue

    with write() as s, s.begin():
        wrong = _noisy_store(s)
    with read() as s:
        q = likely_wrong_queue(s, 1, limit=N)
        assert q.ids == likely_wrong(s, 1, limit=N)
        with pytest.raises(ValueError, match="unknown source"):
            likely_wrong_queue(s, 1, source="vibes")
        empty = likely_wrong_queue(s, 1, source="cross-val")  # no features stored
    assert q.source == "held-out" and q.detail["model_versions"] == {"external": N}
    assert len(set(q.ids[:NOISE]) & wrong) / NOISE >= 0.75
    assert empty.source == "cross-val" and empty.ids == [] and empty.detail["features"] is None


def test_va_queue_ranks_wrong_ratings_and_uses_annotator_spread(write, read):
    from core.store.learning_queues import likely_wrong_queue
    from tests.label_quality_data import valence_arousal

    data, _ = valence_arousal(n=200, n_videos=25, seed=6)  # 20 wrong ratings
    with write() as s, s.begin():
        store_generated(s, data, va=data.given, name="va")
        for sid in (1, 2):  # two more people rate samples 1 and 2
            for who, dv in (("ana", 0.1), ("bob", -0.1)):
                head = s.get(Sample, sid).cur_annotation_id
                edit_label(s, sid, base_annotation_id=head, annotator=who,
                           valence=float(np.clip(data.given[sid - 1, 0] + dv, -1, 1)),
                           arousal=float(data.given[sid - 1, 1]))
    with read() as s:
        q = likely_wrong_queue(s, 1, field="va", limit=200)
        assert relabel_queue(s, 1, "likely wrong V/A", limit=200) == q.ids
    wrong = {i + 1 for i in np.flatnonzero(data.wrong)}
    assert q.source == "cross-val" and q.detail["annotator_spread_rows"] == 2
    assert q.ids and len(set(q.ids[:10]) & wrong) >= 8
    assert len(set(q.ids) & wrong) / len(q.ids) >= 0.8


def test_uncertain_queue_caps_frames_per_video_and_records_the_model(write, read):
    from core.store.learning_queues import uncertain_queue

    with write() as s, s.begin():
        seed_samples(s, 60, dataset="u", labelled=0.0, subjects=0)
        for sid in range(1, 21):  # one video of 20 frames, all near a tie
            s.get(Sample, sid).subject = "long video"
        tie = {c: (0.45 if c in ("Happy", "Sad") else 0.1 / 6) for c in AFFECTNET8}
        sure = {c: (0.9 if c == "Happy" else 0.1 / 7) for c in AFFECTNET8}
        middling = {c: (0.6 if c == "Happy" else (0.3 if c == "Sad" else 0.1 / 6)) for c in AFFECTNET8}
        record_predictions(s, [{"sample_id": sid, "model_version": "m1",
                                "probs": tie if sid <= 20 else (middling if sid <= 30 else sure)}
                               for sid in range(1, 61)])
    with read() as s:
        q = uncertain_queue(s, 1, limit=10, per_group=3, pool=1.3)  # diversity within the 13 most uncertain
        free = uncertain_queue(s, 1, limit=10, per_group=None, pool=1.0)
        assert relabel_queue(s, 1, "label next (uncertain)", limit=10)  # the page's defaults
    assert q.source == "current model" and q.detail["model_versions"] == {"m1": 60}
    assert sum(i <= 20 for i in q.ids) == 3 and set(q.ids) - set(range(1, 21)) <= set(range(21, 31))
    assert set(free.ids) <= set(range(1, 21))  # uncapped: the long video fills the queue
    assert q.scores[0] == pytest.approx(1.0)


def test_uncertain_queue_without_predictions_fits_a_cheap_model_on_features(write, read):
    from core.store.learning_queues import uncertain_queue
    from tests.label_quality_data import classes

    data = classes(n=120, k=4, n_videos=20, noise=0.0, seed=7)
    with write() as s, s.begin():
        store_generated(s, data, labelled=60)  # the second half has no label yet
    with read() as s:
        q = uncertain_queue(s, 1, limit=15, per_group=2)
    assert q.source == "cheap model" and q.detail["trained_on"] == 60 and q.detail["features"] == "gen"
    assert len(q.ids) == 15 and set(q.ids) <= set(range(61, 121))
    vids = [data.groups[i - 1] for i in q.ids]
    assert max(vids.count(v) for v in vids) <= 2
    assert "gen features" in q.detail["diversity"]


def test_multilabel_likely_wrong_on_cur_emotions_cross_validated_then_held_out(write, read):
    from core.store.learning_queues import likely_wrong_queue
    from tests.label_quality_data import multilabel

    data = multilabel(n=300, k=K, n_videos=40, seed=2)  # 30 rows with one class toggled
    wrong = {i + 1 for i in np.flatnonzero(data.wrong)}
    with write() as s, s.begin():
        store_generated(s, data, name="multi")
        assert s.get(Sample, 1).cur_emotions == [AFFECTNET8[k] for k in np.flatnonzero(data.given[0])]
    with read() as s:
        q = likely_wrong_queue(s, 1, limit=300)  # the dataset is multi-label: field emotions
    assert q.field == "emotions" and q.source == "cross-val" and q.detail["rows"] == 300
    assert len(set(q.ids[:15]) & wrong) >= 6  # top 5%: chance would be 1.5 (8 classes, 300 rows)
    with write() as s, s.begin():  # a model that never saw these labels predicts the true sets
        rng = np.random.default_rng(0)
        record_predictions(s, [{"sample_id": i + 1, "model_version": "multi-ext",
                                "probs": {c: 1 / K for c in AFFECTNET8},
                                "outputs": {"emotions": {c: float(np.clip(0.85 if data.true[i, k] else 0.1
                                                                          + rng.normal(0, 0.05), 0.01, 0.99))
                                                         for k, c in enumerate(AFFECTNET8)}}}
                               for i in range(300)])
    with read() as s:
        held = likely_wrong_queue(s, 1, limit=300)
    assert held.source == "held-out" and held.detail["model_versions"] == {"multi-ext": 300}
    assert set(held.ids) == wrong  # the predicted set differs from the label exactly on the toggled rows


@pytest.mark.parametrize("kind", ["emotic", "mosei", "fiv2"])
def test_unlabelled_follows_the_schema(write, read, kind):
    """A multi-label, distribution or trait dataset: "unlabelled" is the samples with no label in
    the schema's fields (not every sample, as when only the single emotion was looked at)."""
    from core.ingest.commit import commit_samples
    from core.ingest.records import PendingSample
    from core.label_schema import BUILTIN_SCHEMAS
    from core.store.datasets import get_or_create_dataset

    labels = {"emotic": {"emotions": ["Fear", "Pain"]}, "mosei": {"distribution": {"Happy": 1.0}},
              "fiv2": {"targets": {"openness": 0.4}}}[kind]
    with write() as s, s.begin():
        ds = get_or_create_dataset(s, kind, schema=BUILTIN_SCHEMAS[kind]())
        commit_samples(s, ds, [PendingSample(crop_sha256=f"{i:064d}", crop_path=f"crops/{i}.png",
                                             source_path=f"{i}.png", **(labels if i % 2 else {}))
                               for i in range(6)], rules=None)
    with read() as s:
        ds_id = s.scalar(select(Dataset.id).where(Dataset.name == kind))
        ids = s.scalars(select(Sample.id).where(Sample.dataset_id == ds_id).order_by(Sample.id)).all()
        assert relabel_queue(s, ds_id, "unlabelled") == ids[0::2]
    with write() as s, s.begin():  # an edit takes ids[0] off the queue; its undo puts it back
        ann = edit_label(s, ids[0], base_annotation_id=None, annotator="ana", **labels)
    with read() as s:
        assert relabel_queue(s, ds_id, "unlabelled") == ids[2::2]
    with write() as s, s.begin():
        undo_last(s, ids[0], base_annotation_id=ann.id, annotator="ana")
    with read() as s:
        assert relabel_queue(s, ds_id, "unlabelled") == ids[0::2]


def test_multilabel_uncertain_queue_reads_sigmoids_near_their_thresholds(write, read):
    """A multi-label dataset: a sample is uncertain when its per-category sigmoids sit near the
    model's thresholds, not when its (un-normalised) probabilities look like a tie."""
    from core.ingest.commit import commit_samples
    from core.ingest.records import PendingSample
    from core.label_schema import emotic_schema
    from core.store.datasets import get_or_create_dataset
    from core.store.learning_queues import uncertain_queue

    schema = emotic_schema()
    classes = list(schema.classes)
    with write() as s, s.begin():
        ds = get_or_create_dataset(s, "em", schema=schema)
        commit_samples(s, ds, [PendingSample(crop_sha256=f"{i:064d}", crop_path=f"crops/{i}.png",
                                             source_path=f"{i}.png", subject=f"v{i}") for i in range(6)], rules=None)
        ids = s.scalars(select(Sample.id).where(Sample.dataset_id == ds.id).order_by(Sample.id)).all()
        thresholds = {c: 0.3 for c in classes}
        sure = {c: 0.02 for c in classes} | {classes[0]: 0.97}
        near = {c: 0.3 for c in classes}  # every category exactly at its threshold
        half = {c: 0.02 for c in classes} | {c: 0.31 for c in classes[:13]}
        outputs = [near, sure, half, sure, sure, None]
        record_predictions(s, [{"sample_id": sid, "model_version": "emo-ml", "probs": {c: 1 / len(classes)
                                                                                       for c in classes},
                                **({"outputs": {"emotions": out, "thresholds": thresholds}} if out else {})}
                               for sid, out in zip(ids, outputs)])
    with read() as s:
        q = uncertain_queue(s, ds.id, limit=2, per_group=None, pool=1.0)  # the two most uncertain
        every = uncertain_queue(s, ds.id, limit=10, per_group=None)
    assert q.field == "emotions" and q.source == "current model" and q.detail["model_versions"] == {"emo-ml": 5}
    assert q.ids == [ids[0], ids[2]] and q.scores[0] == pytest.approx(1.0)
    score = dict(zip(every.ids, every.scores))
    assert score[ids[2]] == pytest.approx((13 * (1 - 0.01 / 0.7) + 13 * (1 - 0.28 / 0.7)) / 26)
    assert score[ids[1]] == pytest.approx(((1 - 0.67 / 0.7) + 25 * (1 - 0.28 / 0.7)) / 26)
    assert set(every.ids) == set(ids[:5])  # no multi-label outputs: not scored
