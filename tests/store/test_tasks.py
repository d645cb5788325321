"""Labelling tasks: three simulated annotators label a generated dataset with k = 3, blind; the
queue never repeats, the blind view hides others, consensus and alpha are what the rules and the
`krippendorff` package give; snapshots are immutable, exportable and named by a training run."""
from __future__ import annotations

import json
from collections import Counter

import krippendorff
import numpy as np
import pytest
from sqlalchemy import inspect, select

from core.store.labels import edit_label, label_view
from core.store.models import Annotation, Sample
from core.store.predictions import record_predictions
from core.store.snapshots import (
    SnapshotError,
    create_snapshot,
    ensure_snapshot,
    export_snapshot,
    snapshot_labels,
)
from core.store.task_agreement import task_agreement
from core.store.tasks import (
    TaskError,
    assignment_view,
    create_task,
    get_task,
    my_queue,
    submit_task_label,
    task_progress,
)
from core.taxonomy import AFFECTNET8
from tests.store.seed import seed_samples

PEOPLE = ("ana", "bob", "cy")
N = 24


def _simulate(write, read, *, blind: bool = True, seed: int = 0) -> dict[tuple[str, int], dict]:
    """Each annotator works through their queue; returns what each one submitted per sample."""
    rng = np.random.default_rng(seed)
    truth = {i: (AFFECTNET8[i % 4], float(rng.uniform(-0.8, 0.8))) for i in range(1, N + 1)}
    given: dict[tuple[str, int], dict] = {}
    for who in PEOPLE:
        while True:
            with read() as s:
                queue = my_queue(s, get_task(s, "d", "k3"), who, limit=5)
            if not queue:
                break
            for sid in queue:
                assert (who, sid) not in given, f"{who} was handed sample {sid} twice"
                with read() as s:
                    view = assignment_view(s, get_task(s, "d", "k3"), sid, who)
                if blind:  # nothing of anybody else's, and no model output
                    assert view.prediction is None and view.history == []
                    assert all(view.sample[f] is None for f in ("emotion", "valence", "arousal", "stress"))
                emotion, valence = truth[sid]
                if rng.uniform() < 0.35:
                    emotion = AFFECTNET8[int(rng.integers(0, 8))]
                values = {"emotion": emotion, "valence": round(float(np.clip(valence + rng.normal(0, 0.2), -1, 1)), 3)}
                with write() as s, s.begin():
                    submit_task_label(s, get_task(s, "d", "k3"), sid, annotator=who, **values)
                given[(who, sid)] = values
    return given


@pytest.fixture
def task(write, read):
    with write() as s, s.begin():
        seed_samples(s, N)
        create_task(s, "d", "k3", k=3, annotators=PEOPLE, blind=True)
        record_predictions(s, [{"sample_id": i, "model_version": "m", "probs": {"Happy": 0.9, "Sad": 0.1}}
                               for i in range(1, N + 1)])


def test_three_blind_annotators_k3_queue_progress_consensus_and_alpha(task, write, read):
    given = _simulate(write, read)
    assert Counter(sid for _, sid in given) == {sid: 3 for sid in range(1, N + 1)}
    with read() as s:
        t = get_task(s, "d", "k3")
        progress = task_progress(s, t)
        report = task_agreement(s, t)
        samples = {smp.id: smp for smp in s.query(Sample).order_by(Sample.id)}
    assert progress["complete"] == N and progress["labels"] == progress["needed"] == 3 * N
    assert progress["annotators"] == {p: {"labelled": N, "owed": 0} for p in PEOPLE}
    ties = 0
    for sid, smp in samples.items():
        votes = [given[(p, sid)]["emotion"] for p in PEOPLE]
        (top, n), *rest = Counter(votes).most_common()
        tie = bool(rest) and rest[0][1] == n
        ties += tie
        assert smp.cur_emotion == (None if tie else top)
        assert smp.cur_sources["emotion"] == "consensus:3" + (":tie" if tie else "")
        assert smp.cur_valence == pytest.approx(np.mean([given[(p, sid)]["valence"] for p in PEOPLE]))
        assert smp.cur_sources["valence"] == "consensus:3" and smp.cur_sources["arousal"] == "imported"
    assert ties > 0  # the generated noise produces three-way splits: the tie rule was exercised
    codes = np.array([[AFFECTNET8.index(given[(p, sid)]["emotion"]) for sid in range(1, N + 1)] for p in PEOPLE],
                     dtype=float)
    vals = np.array([[given[(p, sid)]["valence"] for sid in range(1, N + 1)] for p in PEOPLE])
    fields = {f["field"]: f for f in report["fields"]}
    assert fields["emotion"]["alpha"] == krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal")
    assert fields["valence"]["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=vals, level_of_measurement="interval"))
    assert fields["valence"]["icc"]["units"] == N and -1 <= fields["valence"]["icc"]["ICC2"] <= 1
    assert report["annotators"] == list(PEOPLE) and np.allclose(np.diag(fields["emotion"]["pairwise"]), 1)
    worst = report["disagreements"][0]
    assert worst["score"] == max(d["score"] for d in report["disagreements"]) > 0
    for d in report["disagreements"]:  # a tied vote reads "tie", else the consensus emotion
        assert d["emotion"] == (samples[d["sample_id"]].cur_emotion or "tie")


def test_assignments_refuse_strangers_full_samples_and_a_closed_task(task, write, read):
    with write() as s, s.begin():
        t = get_task(s, "d", "k3")
        with pytest.raises(TaskError, match="not an annotator"):
            submit_task_label(s, t, 1, annotator="eve", emotion="Happy")
        with pytest.raises(TaskError, match="needs at least 4 annotators"):
            create_task(s, "d", "k4", k=4, annotators=PEOPLE)
    with write() as s, s.begin():
        t = create_task(s, "d", "pair", k=2, annotators=PEOPLE, sample_ids=[1, 2])
        submit_task_label(s, t, 1, annotator="ana", emotion="Happy")
        submit_task_label(s, t, 1, annotator="bob", emotion="Happy")
        with pytest.raises(TaskError, match="already has 2 labels"):
            submit_task_label(s, t, 1, annotator="cy", emotion="Sad")
        with pytest.raises(TaskError, match="not in task"):
            submit_task_label(s, t, 3, annotator="cy", emotion="Sad")
        assert my_queue(s, t, "cy") == [2] and my_queue(s, t, "ana") == [2]


def test_one_annotator_so_far_is_their_label_and_an_adjudication_wins(task, write, read):
    with write() as s, s.begin():
        t = get_task(s, "d", "k3")
        submit_task_label(s, t, 5, annotator="ana", emotion="Fear", valence=0.5)
    with read() as s:
        smp = s.get(Sample, 5)
        assert (smp.cur_emotion, smp.cur_sources["emotion"]) == ("Fear", "human")
    with write() as s, s.begin():
        t = get_task(s, "d", "k3")
        submit_task_label(s, t, 5, annotator="bob", emotion="Anger", valence=-0.5)
        head = s.get(Sample, 5).cur_annotation_id
        assert s.get(Sample, 5).cur_sources["emotion"] == "consensus:2:tie"
        edit_label(s, 5, base_annotation_id=head, annotator="lead", emotion="Anger")  # adjudication
    with read() as s:
        smp = s.get(Sample, 5)
        assert (smp.cur_emotion, smp.cur_sources["emotion"]) == ("Anger", "human")
        assert (smp.cur_valence, smp.cur_sources["valence"]) == (0.0, "consensus:2")


def test_blind_view_hides_others_and_the_prediction_an_open_task_shows_them(task, write, read):
    with write() as s, s.begin():
        t = get_task(s, "d", "k3")
        submit_task_label(s, t, 7, annotator="ana", emotion="Sad", valence=0.25)
        open_task = create_task(s, "d", "open", k=2, annotators=PEOPLE, blind=False, sample_ids=[7])
    with read() as s:
        t = get_task(s, "d", "k3")
        bob, ana = assignment_view(s, t, 7, "bob"), assignment_view(s, t, 7, "ana")
        seen = assignment_view(s, get_task(s, "d", "open"), 7, "bob")
        assert label_view(s, 7).prediction is not None  # the ordinary view has it
    assert bob.prediction is None and bob.history == [] and bob.sample["emotion"] is None
    assert bob.sample["valence"] is None and bob.sample["head"] is None
    assert ana.sample["emotion"] == "Sad" and ana.sample["valence"] == 0.25
    assert [h.annotator for h in ana.history] == ["ana"] and ana.history[0].before is None
    assert seen.prediction is not None and seen.sample["emotion"] == "Sad" and open_task.blind is False


def test_snapshot_is_immutable_exportable_and_reused_when_unchanged(task, write, read, env):
    with write() as s, s.begin():
        snap = create_snapshot(s, "d", "v1")
        with pytest.raises(SnapshotError, match="immutable"):
            create_snapshot(s, "d", "v1")
        assert ensure_snapshot(s, "d").name == "v1"  # nothing changed: reused
    with read() as s:
        before = snapshot_labels(s, snap)
    with write() as s, s.begin():
        edit_label(s, 1, base_annotation_id=s.get(Sample, 1).cur_annotation_id, annotator="ana", emotion="Contempt")
        auto = ensure_snapshot(s, "d")
    with read() as s:
        assert snapshot_labels(s, snap) == before and before[0]["emotion"] == "Neutral"
        assert auto.name != "v1" and snapshot_labels(s, auto)[0]["emotion"] == "Contempt"
        assert before[0]["head_id"] in before[0]["annotation_ids"] and before[0]["sources"]["emotion"] == "imported"
        out = export_snapshot(s, "d", "v1", env / "v1.json")
        csv = export_snapshot(s, "d", "v1", env / "v1.csv")
    data = json.loads((env / "v1.json").read_text())
    assert out["rows"] == csv["rows"] == N and data["snapshot"] == "v1" and data["labels"][0]["emotion"] == "Neutral"
    assert (env / "v1.csv").read_text().splitlines()[0].startswith("sample_id,crop_path")


def test_a_training_run_names_its_snapshot(task, write, read):
    from core.jobs.store import create_run
    from core.store.models import Run

    first = create_run({"dataset": "d", "epochs": 1})
    with write() as s, s.begin():
        create_snapshot(s, "d", "frozen")
    named = create_run({"dataset": "d", "snapshot": "frozen"})
    with pytest.raises(LookupError, match="no snapshot named 'nope'"):
        create_run({"dataset": "d", "snapshot": "nope"})
    with read() as s:
        auto = s.get(Run, first).config["snapshot"]
        assert auto.startswith("d@") and s.get(Run, named).config["snapshot"] == "frozen"
        assert [r["emotion"] for r in snapshot_labels(s, get_snapshot_(s, auto))][:2] == ["Neutral", "Happy"]


def get_snapshot_(s, name):
    from core.store.snapshots import get_snapshot

    return get_snapshot(s, "d", name)


def test_migration_0007_adds_and_drops_only_its_tables(env):
    from core.config import get_settings
    from core.store.db import make_engine, migrate

    engine = make_engine(get_settings().db_url)
    migrate(engine, "0006")
    before = set(inspect(engine).get_table_names())
    migrate(engine, "0007")
    added = set(inspect(engine).get_table_names()) - before
    assert added == {"label_tasks", "task_samples", "task_labels", "snapshots", "snapshot_labels"}
    migrate(engine, "0006", down=True)
    assert set(inspect(engine).get_table_names()) == before
    engine.dispose()


def test_richer_fields_per_category_alpha_and_their_consensus(write, read):
    from core.label_schema import LabelSchema, TargetSpec
    from tests.store.seed import seed_rich

    multi = LabelSchema(classes=("Joy", "Fear", "Pain"), emotion_mode="multi", dominance=True,
                        targets=(TargetSpec("openness"),))
    dist = LabelSchema(classes=("Joy", "Fear", "Pain"), emotion_mode="distribution")
    sets = {"ana": [["Joy"], ["Fear", "Pain"], []], "bob": [["Joy", "Fear"], ["Fear"], []],
            "cy": [["Joy"], ["Pain"], ["Pain"]]}
    with write() as s, s.begin():
        seed_rich(s, multi, n=3, dataset="m")
        seed_rich(s, dist, n=3, dataset="p")
        tm = create_task(s, "m", "t", k=3, annotators=PEOPLE)
        tp = create_task(s, "p", "t", k=2, annotators=PEOPLE)
        for who, chosen in sets.items():
            for i, emotions in enumerate(chosen):
                submit_task_label(s, tm, 1 + i, annotator=who, emotions=emotions, dominance=0.1 * (i + 1),
                                  targets={"openness": 0.2 + 0.1 * PEOPLE.index(who)})
        submit_task_label(s, tp, 4, annotator="ana", distribution={"Joy": 1.0})
        submit_task_label(s, tp, 4, annotator="bob", distribution={"Joy": 0.5, "Fear": 0.5})
    with read() as s:
        first, second = s.get(Sample, 1), s.get(Sample, 2)
        report = task_agreement(s, get_task(s, "m", "t"))
        dist_smp = s.get(Sample, 4)
    assert first.cur_emotions == ["Joy"] and second.cur_emotions == ["Fear", "Pain"]  # > half chose them
    assert first.cur_sources["emotions"] == "consensus:3" and first.cur_dominance == pytest.approx(0.1)
    assert first.cur_targets == {"openness": pytest.approx(0.3)} and first.cur_sources["target:openness"] == "consensus:3"
    assert dist_smp.cur_distribution == pytest.approx({"Joy": 0.75, "Fear": 0.25})
    assert dist_smp.cur_sources["distribution"] == "consensus:2"
    fields = {f["field"]: f for f in report["fields"]}
    for cls in ("Joy", "Fear", "Pain"):
        grid = np.array([[float(cls in sets[p][i]) for i in range(3)] for p in PEOPLE])
        want = (krippendorff.alpha(reliability_data=grid, level_of_measurement="nominal")
                if len(np.unique(grid)) > 1 else None)
        assert fields[f"emotions:{cls}"]["alpha"] == want
    assert fields["target:openness"]["level"] == "interval" and fields["dominance"]["alpha"] == pytest.approx(1.0)


def test_a_save_racing_another_writer_is_retried_not_a_conflict(task, write, read, monkeypatch):
    import core.store.labels as labels

    real, calls = labels.move_head, []

    def lose_first_race(session, sample_id, base_id, new_id):
        calls.append(new_id)
        return False if len(calls) == 1 else real(session, sample_id, base_id, new_id)

    monkeypatch.setattr(labels, "move_head", lose_first_race)
    with write() as s, s.begin():
        ann = submit_task_label(s, get_task(s, "d", "k3"), 9, annotator="ana", emotion="Sad")
    with read() as s:
        smp = s.get(Sample, 9)
        rows = s.scalars(select(Annotation).where(Annotation.sample_id == 9, Annotation.source == "human")).all()
    assert len(calls) == 2 and smp.cur_emotion == "Sad" and smp.cur_annotation_id == ann.id
    assert [r.id for r in rows] == [ann.id]  # the lost attempt's row was rolled back
