"""core.catalog: the default, succeeded runs and exported files listed; references resolved;
one loader; stored paths outside the models / data dirs refused."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.inference.common import make_tiny_resnet

CROPS = [np.random.default_rng(i).integers(0, 256, (112, 112, 3), dtype=np.uint8) for i in range(4)]


def _run(write, *, status="succeeded", checkpoint=None, name="tiny") -> int:
    from core.store.models import Run

    with write() as s, s.begin():
        run = Run(name=name, status=status, config={"backbone": "resnet18"},
                  metrics={"best": {"epoch": 1, "score": 0.5}},
                  checkpoint_path=None if checkpoint is None else str(checkpoint))
        s.add(run)
        s.flush()
        return run.id


@pytest.fixture
def models(env) -> Path:
    from core.config import get_settings

    return get_settings().models_dir


def test_models_dir_setting(env, monkeypatch, tmp_path):
    from core.config import REPO_ROOT, get_settings

    assert get_settings().models_dir == (env / "data" / "models").resolve()  # follows a moved data dir
    monkeypatch.setenv("AFFECTLAB_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert get_settings().models_dir == (tmp_path / "elsewhere").resolve()
    monkeypatch.delenv("AFFECTLAB_MODELS_DIR")
    monkeypatch.delenv("AFFECTLAB_DATA_DIR")
    assert get_settings().models_dir == REPO_ROOT / "models"  # the default: <repo>/models


def test_lists_default_succeeded_runs_and_exports(env, write, models):
    from core.catalog import DEFAULT_ID, DEFAULT_LABEL, list_models
    from core.export_model import export_model

    ckpt = make_tiny_resnet(models / "run-7" / "best.pt")
    _run(write, status="failed", checkpoint=ckpt)  # not offered
    _run(write, checkpoint=models / "run-99" / "best.pt")  # checkpoint missing: not offered
    _run(write)  # no checkpoint: not offered
    run_id = _run(write, checkpoint=ckpt, name="")
    export = export_model(ckpt, "torchscript", crops=CROPS)
    assert Path(export["path"]) == models / "run-7" / "run-7.ts.pt"  # named per run

    entries = list_models()
    assert [e.id for e in entries] == [DEFAULT_ID, f"run:{run_id}", "file:run-7/run-7.ts.pt"]
    default, run, ts = entries
    assert default.label == DEFAULT_LABEL and default.kind == "default"
    assert default.flags == {"emotion": "trained", "va": "prior", "stress": "prior"}
    assert run.kind == "run" and run.path == ckpt and run.run_id == run_id
    assert run.label == f"run {run_id}: resnet18" and run.metrics == {"epoch": 1, "score": 0.5}
    assert run.flags == {"emotion": "untrained", "va": "prior", "stress": "prior"}
    assert run.backbone == "resnet18" and run.trained_heads == []
    assert ts.kind == "torchscript" and ts.run_id == 7 and "TorchScript export of run 7" in ts.label
    assert ts.flags == run.flags and ts.metrics == {"val": {"macro_f1": 0.25}}
    assert [e.id for e in list_models(files=False)] == [DEFAULT_ID, f"run:{run_id}"]


def test_find_model_by_id_label_path(env, write, models):
    from core.catalog import ModelNotFound, find_model, list_models

    ckpt = make_tiny_resnet(models / "run-3" / "best.pt")
    run_id = _run(write, checkpoint=ckpt)
    entry = list_models()[1]
    assert find_model(f"run:{run_id}") == entry == find_model(f"run {run_id}") == find_model(entry.label)
    assert find_model(None).id == find_model("default").id == "default"
    assert find_model(entry) is entry
    by_path = find_model(str(ckpt))
    assert by_path.kind == "checkpoint" and by_path.id == "file:run-3/best.pt" and by_path.run_id == 3
    assert find_model("file:run-3/best.pt").path == ckpt
    with pytest.raises(ModelNotFound, match="unknown model 'nope'"):
        find_model("nope")
    with pytest.raises(ModelNotFound, match="no run 404"):
        find_model("run:404")
    with pytest.raises(ModelNotFound, match="models dir"):
        find_model("file:../../etc/passwd")


def test_stored_paths_old_and_hostile(env, write, models, tmp_path):
    """Rows from before the models dir moved (absolute, or relative to the data dir) still load;
    a row pointing outside the models and data dirs is refused."""
    from core.catalog import list_models, run_checkpoint
    from core.config import get_settings

    data = get_settings().data_dir
    old_abs = make_tiny_resnet(data / "old" / "run-1" / "best.pt")
    old_rel = make_tiny_resnet(data / "models" / "run-2" / "best.pt")
    outside = make_tiny_resnet(tmp_path / "outside" / "best.pt")
    a = _run(write, checkpoint=old_abs)
    b = _run(write, checkpoint="models/run-2/best.pt")
    c = _run(write, checkpoint=outside)
    assert run_checkpoint(a) == old_abs and run_checkpoint(b) == old_rel.resolve()
    with pytest.raises(FileNotFoundError, match="outside the models and data dirs"):
        run_checkpoint(c)
    assert {e.run_id for e in list_models(files=False)} == {a, b, None}


def test_load_predictor_one_loader(env, write, models):
    from core.catalog import list_models, load_predictor

    ckpt = make_tiny_resnet(models / "run-5" / "best.pt")
    run_id = _run(write, checkpoint=ckpt)
    entry = list_models()[1]
    p = load_predictor(entry, with_landmarks=False)
    assert p.backend == "torch" and p.checkpoint == ckpt and p.with_landmarks is False
    assert load_predictor(f"run:{run_id}", shared=True) is load_predictor(entry.label, shared=True)
    assert load_predictor(entry, shared=True) is not p
    out = p.predict_crops(CROPS[:2])
    assert len(out) == 2 and set(out[0].probs) == set(p.config.classes)


def test_cli_style_file_reference_runs_onnx(env, models, tmp_path):
    """--model FILE: an ONNX file anywhere loads (ONNX is data), with its card."""
    from core.catalog import find_model, load_predictor
    from core.export_model import export_model

    ckpt = make_tiny_resnet(tmp_path / "mine" / "net.pt")
    onnx_path = export_model(ckpt, "onnx", crops=CROPS)["path"]
    assert onnx_path.endswith("net.onnx")
    assert find_model(onnx_path).kind == "onnx"
    assert load_predictor(onnx_path).backend == "onnx"
