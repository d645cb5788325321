"""The verb contract through cli.app.main: --json prints one object, text output otherwise,
errors on stderr with exit code 1, usage errors exit 2; train, evaluate text and demo."""
from __future__ import annotations

import pytest

from core.train_config import TrainConfig
from tests.training.tiny import import_tiny, tiny_config
from training import runs


@pytest.fixture
def tiny(env):
    return import_tiny(env, n=32)


def test_stats_text_and_json(cli, tiny, capsys):
    from cli.app import main

    assert main(["stats", "--dataset", tiny]) == 0
    text = capsys.readouterr().out
    assert text.startswith("dataset tiny: 32 samples") and "total" in text and "\"ok\"" not in text
    rc, out, _ = cli("stats", "--dataset", tiny, "--json")
    assert rc == 0 and out["ok"] and out["samples"] == 32 and out["dataset"] == "tiny"


def test_errors_exit_1_with_json_and_usage_errors_exit_2(cli, env):
    rc, out, err = cli("split", "--dataset", "missing", "--json")
    assert rc == 1 and out == {"ok": False, "error": out["error"]} and "missing" in err
    rc, out, err = cli("split", "--dataset", "missing")
    assert rc == 1 and out is None and err.startswith("error: ")
    rc, _, err = cli("stats")
    assert rc == 2 and "--dataset" in err
    rc, _, err = cli("export-model", "--default", "--run", "3")
    assert rc == 2 and "exactly one of --run, --checkpoint, --default" in err
    rc, _, err = cli("export-model")
    assert rc == 2 and "exactly one of" in err
    rc, _, err = cli("nonsense")
    assert rc == 2 and "No such command" in err


def test_train_uses_the_run_rows_config_with_flags_on_top(cli, tiny):
    run_id = runs.create_run(tiny_config(epochs=3))
    rc, out, err = cli("train", "--run-id", run_id, "--epochs", "1", "--json")
    assert rc == 0, err
    assert out["run_id"] == run_id and out["status"] == "succeeded" and out["epochs_done"] == 1
    assert runs.get_run(run_id)["config"]["epochs"] == 1
    rc, more, _ = cli("train", "--run-id", run_id, "--epochs", "2", "--json")
    assert rc == 0 and more["epochs_done"] == 2 and [h["epoch"] for h in more["history"]] == [1, 2]
    rc, out, err = cli("train", "--json")
    assert rc == 1 and "--dataset is required" in out["error"]


def test_train_flags_map_to_the_config():
    from cli.train import FLAGS, overrides

    fields = TrainConfig.__dataclass_fields__
    assert all(field in fields for field, _, _ in FLAGS.values())
    got = overrides({"lr": 0.5, "batch_size": 8, "tasks": "emotion, va", "class_weights": "1,2",
                     "no_augment": True, "no_amp": True, "uncertainty": True, "dataset": "d"})
    assert got == {"lr": 0.5, "batch_size": 8, "tasks": ["emotion", "va"], "class_weights": [1.0, 2.0],
                   "hflip": False, "rotate": 0.0, "color": 0.0, "crop": 0.0, "amp": False,
                   "uncertainty_weighting": True, "dataset": "d"}
    TrainConfig.from_dict(got)  # a valid config


def test_evaluate_text_report():
    from cli.train import format_report

    per = {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2}
    report = {"run_id": 3, "epoch": 2, "split": "val", "n": 4, "stored": 4,
              "labelled": {"emotion": 4, "va": 2, "stress": 0}, "flags": {"emotion": "trained", "va": "prior"},
              "sample_loss_mean": 0.25, "combined": 0.5, "stress": None, "arousal": None,
              "valence": {"ccc": 0.1, "pearson": 0.2, "rmse": 0.3, "mae": 0.4, "n": 2},
              "emotion": {"classes": ["Happy", "Sad"], "accuracy": 0.75, "macro_f1": 0.7, "n": 4,
                          "per_class": {"Happy": per, "Sad": per}, "confusion": [[1, 1], [0, 2]]}}
    text = format_report(report)
    assert text.splitlines()[0].startswith("run 3 (epoch 2), split val: 4 samples")
    assert "accuracy 0.750  macro-F1 0.700" in text and "confusion (rows true" in text
    assert "valence  CCC 0.100" in text and "stress" not in text.split("heads:")[1].split("\n")[1:]


def test_demo_shows_progress_and_a_short_summary(cli, monkeypatch):
    import core.demo

    calls = []

    def fake_prepare(*, force, progress):
        for pct in (0, 40, 100):
            progress(pct, 100)
            calls.append(pct)
        return {"dataset": "demo", "samples": 62, "labelled": 4, "flagged": 0, "by_source": {},
                "emotion_by_split": {"train": {}, "val": {}, "test": {}},
                "imports": [{"path": "p", "added": 60, "existing": 0, "invalid": 0},
                            {"path": "v", "added": 2, "existing": 0, "invalid": 0}]}

    monkeypatch.setattr(core.demo, "prepare_demo", fake_prepare)
    rc, out, err = cli("demo")
    assert rc == 0 and calls == [0, 40, 100] and out is None
    from cli.data import format_demo

    text = format_demo(fake_prepare(force=False, progress=lambda *a: None))
    assert len(text.splitlines()) == 2 and "62 samples (4 labelled), 62 added now" in text
    rc, out, _ = cli("demo", "--json")
    assert rc == 0 and out["ok"] and out["samples"] == 62 and len(out["imports"]) == 2


def test_demo_progress_is_one_percent_scale():
    from core.demo import STEPS, _step

    seen: list[tuple[int, int]] = []
    first, last = _step(lambda d, t: seen.append((d, t)), 0), _step(lambda d, t: seen.append((d, t)), STEPS - 1)
    first(0, 10)
    first(10, 10)
    last(5, None)  # total unknown yet: the step's start
    last(3, 3)
    assert seen == [(0, 100), (100 // STEPS, 100), (int(100 * (STEPS - 1) / STEPS), 100), (100, 100)]
    assert all(isinstance(d, int) for d, _ in seen)
