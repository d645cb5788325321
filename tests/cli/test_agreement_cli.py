"""`affectlab task create|list|status|close`, `agreement --json` and `snapshot create|list|export|compare` through cli.app.main."""
from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest

from core.store.db import write_session
from core.store.tasks import TaskError, get_task, my_queue, submit_task_label
from tests.store.seed import seed_samples

VOTES = {"ana": ["Happy", "Sad", "Fear", "Happy", "Anger", "Sad"],
         "bob": ["Happy", "Sad", "Fear", "Sad", "Anger", "Sad"],
         "cy": ["Happy", "Fear", "Fear", "Happy", "Anger", "Happy"]}
CLASSES = ["Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]


def test_task_verbs_agreement_and_snapshots(cli, env):
    with write_session() as s, s.begin():
        seed_samples(s, 6)
    rc, out, err = cli("task", "create", "triple", "--dataset", "d", "-k", "3", "--annotators", "ana,bob,cy", "--json")
    assert rc == 0, err
    assert out["samples"] == 6 and out["needed"] == 18 and out["blind"] and out["annotators"]["cy"]["owed"] == 6
    rc, _, err = cli("task", "create", "triple", "--dataset", "d", "--json")
    assert rc == 1 and "already has a task named 'triple'" in err
    with write_session() as s, s.begin():
        task = get_task(s, "d", "triple")
        for who, votes in VOTES.items():
            for sid, emotion in enumerate(votes, 1):
                submit_task_label(s, task, sid, annotator=who, emotion=emotion, valence=0.1 * sid)
    rc, out, _ = cli("task", "status", "triple", "--dataset", "d", "--json")
    assert rc == 0 and out["complete"] == 6 and out["annotators"]["bob"] == {"labelled": 6, "owed": 0}
    rc, out, _ = cli("task", "list", "--json")
    assert [t["task"] for t in out["tasks"]] == ["triple"]

    rc, out, err = cli("agreement", "--dataset", "d", "--task", "triple", "--json")
    assert rc == 0, err
    codes = np.array([[CLASSES.index(e) for e in VOTES[p]] for p in ("ana", "bob", "cy")], dtype=float)
    emotion = next(f for f in out["fields"] if f["field"] == "emotion")
    assert emotion["alpha"] == krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal")
    valence = next(f for f in out["fields"] if f["field"] == "valence")
    assert valence["alpha"] == 1.0 and valence["icc"]["ICC2"] == pytest.approx(1.0)  # everyone gave the same values
    assert {d["sample_id"] for d in out["disagreements"] if d["score"] > 1e-9} == {2, 4, 6}
    assert cli("agreement", "--dataset", "d", "--task", "triple")[0] == 0  # the text table
    rc, out, err = cli("agreement", "--dataset", "d", "--task", "nope", "--json")
    assert rc == 1 and "no task named 'nope'" in err

    rc, out, _ = cli("task", "create", "more", "--dataset", "d", "-k", "1", "--json")
    rc, out, err = cli("task", "close", "more", "--dataset", "d", "--json")
    assert rc == 0 and out["closed"] and out["complete"] == 0, err
    with write_session() as s, s.begin():
        more = get_task(s, "d", "more")
        assert my_queue(s, more, "ana") == []
        with pytest.raises(TaskError, match="closed"):
            submit_task_label(s, more, 1, annotator="ana", emotion="Sad")

    rc, out, err = cli("snapshot", "create", "v1", "--dataset", "d", "--json")
    assert rc == 0 and out["snapshot"] == "v1" and out["samples"] == 6, err
    rc, _, err = cli("snapshot", "create", "v1", "--dataset", "d", "--json")
    assert rc == 1 and "immutable" in err
    rc, out, _ = cli("snapshot", "list", "--dataset", "d", "--json")
    assert [s["name"] for s in out["snapshots"]] == ["v1"]
    rc, out, err = cli("snapshot", "export", "v1", "--dataset", "d", "--to", env / "v1.json", "--json")
    assert rc == 0, err
    labels = json.loads((env / "v1.json").read_text())["labels"]
    assert [lab["emotion"] for lab in labels] == ["Happy", "Sad", "Fear", "Happy", "Anger", "Sad"]
    assert labels[0]["sources"]["emotion"] == "consensus:3"
    rc, _, err = cli("snapshot", "export", "v1", "--dataset", "d", "--to", env / "v1.json")
    assert rc == 1 and "exists" in err


def test_snapshot_compare_verb(cli, env, capsys):
    from sqlalchemy import select

    from core.store.labels import edit_label
    from core.store.models import Run, Sample
    from core.store.predictions import record_predictions
    from core.store.snapshots import create_snapshot

    with write_session() as s, s.begin():
        ds = seed_samples(s, 4, dataset="cmp")
        create_snapshot(s, "cmp", "c1")
        run = Run(name="r", dataset_id=ds.id, status="succeeded", config={"dataset": "cmp", "snapshot": "c1"})
        s.add(run)
        s.flush()
        ids = list(s.scalars(select(Sample.id).where(Sample.dataset_id == ds.id).order_by(Sample.id)))
        record_predictions(s, [{"sample_id": i, "model_version": "r", "run_id": run.id,
                                "probs": {c: float(c == "Contempt") for c in CLASSES}} for i in ids])
        edit_label(s, ids[0], base_annotation_id=s.get(Sample, ids[0]).cur_annotation_id, annotator="ana", emotion="Contempt")
        create_snapshot(s, "cmp", "c2")
        run_id = run.id
    rc, out, err = cli("snapshot", "compare", "c2", "--run", str(run_id), "--json")
    assert rc == 0, err
    assert out["changed"] == 1 and out["verdicts"]["model was right"] == 1 and out["samples"][0]["sample_id"] == ids[0]
    capsys.readouterr()
    from cli.app import main

    assert main(["snapshot", "compare", "c2", "--run", str(run_id)]) == 0
    text = capsys.readouterr().out
    assert "model was right: 1" in text and f"#{ids[0]}:" in text and "(predicted Contempt: model was right)" in text
    rc, _, err = cli("snapshot", "compare", "c9", "--run", str(run_id), "--json")
    assert rc == 1 and "no snapshot named 'c9'" in err
