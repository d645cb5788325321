"""The training loop on a tiny generated dataset: learning, Run row, exact resume, cancel, init."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from core.jobs.store import cancel
from core.model.checkpoint import load_checkpoint
from core.rules import DerivationRules
from core.store.models import Run
from core.train_config import TrainConfig
from tests.training.tiny import import_tiny, tiny_config, write_tiny_csv
from training import runs
from training.build import build_for_training
from training.loop import run_dir, train
from training.state import load_state


@pytest.fixture
def tiny(env):
    return import_tiny(env)


def test_two_epochs_lower_the_loss_and_fill_the_run_row(tiny, read):
    seen: list[dict] = []
    result = train(tiny_config(epochs=2), progress=seen.append)
    h = result["history"]
    assert result["status"] == "succeeded" and len(h) == 2
    assert h[1]["train_loss"] < h[0]["train_loss"]
    assert seen[-1]["global_step"] == seen[-1]["total_steps"] == 6 and seen[-1]["eta_s"] == 0
    with read() as s:
        run = s.get(Run, result["run_id"])
        assert run.status == "succeeded" and run.started_at and run.finished_at and run.heartbeat_at
        assert [e["epoch"] for e in run.metrics["history"]] == [1, 2]
        assert run.metrics["best"]["val"]["emotion"]["confusion"]
        assert {"macro_f1", "ccc_valence", "ccc_arousal", "combined"} <= set(run.metrics["history"][0]["val"])
        assert run.checkpoint_path == result["checkpoint"] and run.config["epochs"] == 2
    model, config, meta = load_checkpoint(result["checkpoint"])
    assert config.trained == {"emotion": True, "va": True, "stress": True}
    assert meta["extra"]["run_id"] == result["run_id"] and meta["metrics"]["epoch"] >= 1


def resume_config():
    """Everything that carries state across epochs: augmentation, dropout, class-balanced
    sampling, cosine lr, learned task weights, Adam moments."""
    return tiny_config(epochs=2, hflip=True, rotate=15.0, color=0.2, crop=0.1,
                       model={"dropout": 0.3}, class_balanced=True, scheduler="cosine",
                       uncertainty_weighting=True, va_loss="both")


def test_resume_after_a_kill_matches_an_uninterrupted_run(tiny, read):
    full = train(resume_config())

    def kill(info: dict) -> None:
        if info["epoch"] == 2 and info["step"] == 2:
            raise KeyboardInterrupt  # as a Ctrl-C / dying worker mid-epoch

    run_id = runs.create_run(resume_config())
    with pytest.raises(KeyboardInterrupt):
        train(resume_config(), run_id=run_id, progress=kill)
    assert runs.get_run(run_id)["status"] == "failed"
    assert load_state(run_dir(run_id) / "state.pt")["epoch"] == 1
    resumed = train(resume_config(), run_id=run_id)
    assert resumed["status"] == "succeeded"
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in full["history"]]
    a = load_state(run_dir(full["run_id"]) / "state.pt")
    b = load_state(run_dir(run_id) / "state.pt")
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    for k, v in a["loss"].items():
        assert torch.equal(v, b["loss"][k]), k
    for pa, pb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True):
        assert all(torch.equal(pa[n], pb[n]) for n in pa)
    last_a, _, _ = load_checkpoint(full["last"])
    last_b, _, _ = load_checkpoint(resumed["last"])
    assert all(torch.equal(x, y) for x, y in zip(last_a.state_dict().values(),
                                                 last_b.state_dict().values(), strict=True))
    again = train(resume_config(), run_id=run_id)  # a finished run just reports
    assert again["status"] == "succeeded" and len(again["history"]) == 2


def test_cancel_from_another_thread_stops_cleanly(tiny):
    run_id = runs.create_run(tiny_config(epochs=40))

    def cancel_when_running() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = runs.get_run(run_id)
            if run["status"] == "running" and run["progress"]:
                assert cancel(run_id) == "cancelling"
                return
            time.sleep(0.05)

    t = threading.Thread(target=cancel_when_running)
    t.start()
    result = train(tiny_config(epochs=40), run_id=run_id)
    t.join()
    assert result["status"] == "cancelled" and result["epochs_done"] < 40
    row = runs.get_run(run_id)
    assert row["status"] == "cancelled" and row["progress"]["status"] == "cancelled"
    assert cancel(run_id) == "cancelled" and runs.get_run(run_id)["status"] == "cancelled"  # over


def test_cancel_before_start(tiny):
    run_id = runs.create_run(tiny_config())
    assert cancel(run_id) == "cancelled"  # a queued run is cancelled at once
    result = train(tiny_config(), run_id=run_id)
    assert result["status"] == "cancelled" and result["epochs_done"] == 0


def test_partial_labels_train_together(env):
    from core.ingest import import_path
    csv = write_tiny_csv(env / "src", 32)
    lines = csv.read_text().splitlines()
    rows = [lines[0]] + [",".join(c if j not in (2, 3, 4) or i % 2 else "" for j, c in
                                  enumerate(line.split(","))) for i, line in enumerate(lines[1:])]
    csv.write_text("\n".join(rows).replace(",stress,", ",nostress,") + "\n")  # no stress at all
    import_path("csv", csv, dataset="partial", rules=DerivationRules(stress=None))
    result = train(tiny_config("partial", epochs=1, batch_size=8))
    assert result["status"] == "succeeded"
    assert all(v == v for v in result["history"][0]["train"].values())  # no NaN
    _, config, _ = load_checkpoint(result["checkpoint"])
    assert config.trained == {"emotion": True, "va": True, "stress": False}
    assert result["history"][0]["val"]["stress_auroc"] is None


def test_pretrained_init_remaps_the_fer_head(env):
    from core.model.convert_fer import CONTEMPT_BIAS, ensure_default_model
    src, _, _ = load_checkpoint(ensure_default_model())
    cfg = TrainConfig(dataset="x", init="auto")
    model = build_for_training(cfg, ["Happy", "bored", "Contempt", "angry"], {"emotion": True})
    w, b = model.emotion_head.conv.weight, model.emotion_head.conv.bias
    sw, sb = src.emotion_head.conv.weight, src.emotion_head.conv.bias
    assert torch.equal(w[0], sw[1]) and b[0] == sb[1]  # Happy
    assert torch.equal(w[3], sw[6]) and b[3] == sb[6]  # angry -> Anger
    for j in (1, 2):  # new class, and the switched-off Contempt
        assert torch.count_nonzero(w[j]) == 0 and b[j] > CONTEMPT_BIAS / 2
    assert torch.equal(model.backbone.conv1.weight, src.backbone.conv1.weight)
    assert model.config.trained["emotion"] and model.config.classes[1] == "bored"
    with pytest.raises(ValueError, match="mini_xception"):
        build_for_training(TrainConfig(dataset="x", backbone="resnet18", init="pretrained"), ["a", "b"], {})
