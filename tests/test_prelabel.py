"""prelabel: predictions (never labels) for unlabelled crops, idempotent per model version."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.prelabel import prelabel
from core.store.models import Annotation, Prediction, Sample
from tests.helpers import write_image

LABELLED, UNLABELLED = 6, 4


@pytest.fixture
def dataset(env: Path) -> str:
    """6 labelled and 4 unlabelled crops imported through the CSV importer."""
    from core.ingest import import_path

    root = env / "src"
    lines = ["image_path,emotion,valence,arousal,stress"]
    for i in range(LABELLED + UNLABELLED):
        write_image(root / "imgs" / f"{i}.png", i, size=48)
        labels = f"{i % 8},0.1,0.2,0.3" if i < LABELLED else ",,,"
        lines.append(f"imgs/{i}.png,{labels}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    import_path("csv", root / "labels.csv", dataset="pre")
    return "pre"


def counts(read) -> tuple[int, int]:
    with read() as s:
        return (s.scalar(select(func.count()).select_from(Annotation)),
                s.scalar(select(func.count()).select_from(Prediction)))


def test_prelabel_stores_predictions_for_unlabelled_samples_only(dataset, read):
    annotations, _ = counts(read)
    seen = []
    r = prelabel(dataset, backend="torch", batch_size=3, progress=lambda d, t: seen.append((d, t)))
    assert r["predicted"] == UNLABELLED and r["skipped_existing"] == 0 and r["failed"] == 0
    assert seen[-1] == (UNLABELLED, UNLABELLED) and len(seen) == 2
    assert r["flags"] == {"emotion": "trained", "va": "prior", "stress": "prior"}
    assert counts(read) == (annotations, UNLABELLED)  # no annotation created
    with read() as s:
        preds = s.scalars(select(Prediction)).all()
        assert {p.model_version for p in preds} == {r["model_version"]}
        assert all(p.run_id is None and p.loss is None for p in preds)
        assert all(p.flags["va"] == "prior" and p.flags["stress"] == "prior" for p in preds)
        samples = {x.id: x for x in s.scalars(select(Sample))}
        assert {p.sample_id for p in preds} == {i for i, x in samples.items() if x.cur_emotion is None}
        for p in preds:
            x = samples[p.sample_id]
            assert x.pred_emotion == p.emotion and x.has_prediction and x.cur_emotion is None
            assert x.pred_confidence == pytest.approx(max(p.probs.values()))
        assert sum(x.has_prediction for x in samples.values()) == UNLABELLED


def test_prelabel_is_idempotent_and_all_adds_the_labelled(dataset, read):
    first = prelabel(dataset, backend="torch")
    again = prelabel(dataset, backend="torch")
    assert again["predicted"] == 0 and again["skipped_existing"] == UNLABELLED
    assert again["model_version"] == first["model_version"]
    annotations, _ = counts(read)
    everything = prelabel(dataset, backend="torch", only_unlabelled=False)
    assert everything["predicted"] == LABELLED and everything["skipped_existing"] == UNLABELLED
    assert counts(read) == (annotations, LABELLED + UNLABELLED)
    with read() as s:  # labels untouched
        assert s.scalar(select(func.count()).select_from(Sample)
                        .where(Sample.cur_emotion.is_not(None))) == LABELLED


def test_prelabel_cli(dataset, capsys):
    from cli.app import main

    assert main(["prelabel", "--dataset", dataset, "--backend", "torch", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] and result["predicted"] == UNLABELLED
    assert main(["prelabel", "--dataset", "nope", "--backend", "torch", "--json"]) == 1
