"""Predictor on real photos: faces, probabilities, flags, backends agreeing, threads, resolution."""
from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest

from tests.inference.common import copy_model, make_tiny_resnet


def _frame(asset, name):
    from core.faces import read_image

    return read_image(asset(name))


def test_single_face(onnx_predictor, asset):
    assert onnx_predictor.backend == "onnx"
    faces = onnx_predictor.predict_frame(_frame(asset, "single_face.jpg"))
    assert len(faces) == 1
    f = faces[0]
    assert sum(f.probs.values()) == pytest.approx(1.0, abs=1e-6)
    assert f.emotion == max(f.probs, key=f.probs.get) and f.confidence == f.probs[f.emotion]
    assert -1 <= f.valence <= 1 and -1 <= f.arousal <= 1 and 0 <= f.stress <= 1
    assert f.bbox is not None and f.score > 0.5 and f.keypoints.shape == (5, 2)
    assert 0 <= f.quality <= 1
    json.dumps(f.to_dict())  # JSON-able as is


def test_happy_posed_photo(onnx_predictor, asset):
    faces = onnx_predictor.predict_frame(_frame(asset, "0-f15-hao-ph.jpg"))
    assert len(faces) == 1 and faces[0].emotion == "Happy" and faces[0].confidence > 0.5


def test_default_model_flags_va_stress_as_prior(onnx_predictor, asset):
    from core.model.prior import prior_va_stress

    f = onnx_predictor.predict_frame(_frame(asset, "single_face.jpg"))[0]
    assert f.flags == {"emotion": "trained", "va": "prior", "stress": "prior"}
    assert f.to_dict()["flags"] == f.flags
    va, stress = prior_va_stress(np.array([list(f.probs.values())], np.float32),
                                 list(f.probs))
    assert (f.valence, f.arousal) == pytest.approx(tuple(va[0]), abs=1e-5)
    assert f.stress == pytest.approx(float(stress[0]), abs=1e-5)


def test_torch_onnx_torchscript_agree(onnx_predictor, torch_predictor, default_ckpt, default_ts,
                                      asset):
    from core.inference import Predictor

    ts = Predictor(default_ckpt, backend="torchscript")
    frame = _frame(asset, "multi_face.jpg")
    runs = [p.predict_frame(frame) for p in (onnx_predictor, torch_predictor, ts)]
    assert len(runs[0]) >= 3 and len({len(r) for r in runs}) == 1
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert a.emotion == b.emotion and a.bbox == b.bbox
            assert max(abs(a.probs[k] - b.probs[k]) for k in a.probs) < 1e-5
            assert abs(a.valence - b.valence) < 1e-5 and abs(a.stress - b.stress) < 1e-5


def test_predict_crops_matches_affectnet_predict(torch_predictor, onnx_predictor, default_ckpt):
    from core.inference.media import real_face_crops
    from core.model.checkpoint import load_checkpoint
    from core.model.preprocess import preprocess

    crops = real_face_crops(64, gray=True)
    model, config, _ = load_checkpoint(default_ckpt)
    ref = model.predict(preprocess(crops, config))
    for predictor in (torch_predictor, onnx_predictor):
        preds = predictor.predict_crops(crops)
        assert len(preds) == len(crops) and preds[0].bbox is None
        probs = np.array([list(p.probs.values()) for p in preds])
        np.testing.assert_allclose(probs, ref["emotion"].numpy(), atol=1e-5)
        np.testing.assert_allclose([[p.valence, p.arousal] for p in preds], ref["va"].numpy(), atol=1e-5)
        np.testing.assert_allclose([p.stress for p in preds], ref["stress"][:, 0].numpy(), atol=1e-5)
    assert torch_predictor.predict_crops([]) == []


def test_threads_share_one_predictor(onnx_predictor, asset):
    frame = _frame(asset, "multi_face.jpg")
    want = [f.to_dict() for f in onnx_predictor.predict_frame(frame)]
    got, errors = [], []

    def work():
        try:
            for _ in range(5):
                got.append([f.to_dict() for f in onnx_predictor.predict_frame(frame)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 20 and all(g == want for g in got)


def test_backend_resolution(default_ckpt, default_onnx, tmp_path):
    from core.inference import Predictor

    assert Predictor(default_onnx["path"]).backend == "onnx"
    assert Predictor(default_ckpt, backend="torch").backend == "torch"
    with pytest.raises(ValueError, match="pass the checkpoint"):
        Predictor(default_onnx["path"], backend="torch")
    with pytest.raises(ValueError, match="unknown backend"):
        Predictor(default_ckpt, backend="tensorrt")
    lone = make_tiny_resnet(tmp_path / "lone.pt")
    assert Predictor(lone).backend == "torch"  # auto without an export beside it
    with pytest.raises(FileNotFoundError, match="export-model"):
        Predictor(lone, backend="onnx")


def test_stale_export_is_not_used(tmp_path):
    from core.export_model import export_model
    from core.inference import Predictor

    ckpt = make_tiny_resnet(tmp_path / "m.pt", seed=1)
    export_model(ckpt, "torchscript")  # the same staleness rule as ONNX, 5x faster to export
    assert Predictor(ckpt, backend="torchscript").backend == "torchscript"
    make_tiny_resnet(ckpt, seed=2)  # retrained in place: the export no longer matches
    with pytest.raises(ValueError, match="out of date"):
        Predictor(ckpt, backend="torchscript")
    assert Predictor(ckpt).backend == "torch"


def test_onnx_without_card_uses_embedded_config(default_onnx, tmp_path, asset):
    from core.inference import Predictor

    lone = tmp_path / "lone.onnx"
    shutil.copy(default_onnx["path"], lone)
    p = Predictor(lone)
    assert p.card is None and p.config.backbone == "mini_xception" and p.config.input_size == 64
    assert p.predict_frame(_frame(asset, "0-f15-hao-ph.jpg"))[0].emotion == "Happy"


def test_catalog_default_is_shared_and_uses_onnx(env, default_ckpt, default_onnx):
    from core.catalog import load_predictor
    from core.model.convert_fer import default_checkpoint_path

    copy_model(default_ckpt, default_checkpoint_path().parent)  # already converted + exported
    p = load_predictor("default", shared=True)
    assert p is load_predictor("default", shared=True) and p.backend == "onnx"
    assert p is not load_predictor("default")  # not shared: a fresh one
    assert p.checkpoint == default_checkpoint_path() and p.model_version.startswith("fer_mini_xception@")
    assert load_predictor("default", backend="torch", shared=True).backend == "torch"


def test_torchscript_exported_elsewhere_is_refused(env, default_ts):
    """A TorchScript file exported by another installation (another data dir) is not trusted."""
    from core.inference import Predictor
    from core.inference.trust import UntrustedModelError

    with pytest.raises(UntrustedModelError, match="refused"):
        Predictor(default_ts["path"])
