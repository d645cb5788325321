"""Live-path fixtures: the default model converted once into a session data dir, its Predictor,
and real frames of single_face.mp4 (assets from the repo's cache, never downloaded)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.live.common import ASSETS, cached_asset

NEEDED = ("emotion_model.hdf5", "face_detection_short_range.tflite", "face_landmark.tflite",
          "single_face.mp4")


@pytest.fixture(scope="session")
def live_data_dir(tmp_path_factory) -> Path:
    """A data dir holding the converted default model and its ONNX export (models/)."""
    for name in NEEDED:
        cached_asset(name)
    data = tmp_path_factory.mktemp("live_data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AFFECTLAB_DATA_DIR", str(data))
        mp.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
        from core.export_model import ensure_exported
        from core.model.convert_fer import ensure_default_model

        ensure_exported(ensure_default_model(), "onnx")
    return data


@pytest.fixture(scope="session")
def predictor(live_data_dir):
    """The pretrained default on ONNX Runtime, as the Live page loads it."""
    from core.inference import Predictor

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
        p = Predictor(live_data_dir / "models" / "fer_mini_xception.pt", threads=1)
        p.pipeline_for("short")  # build the stream's face models while the env points at the assets
    assert p.backend == "onnx"
    yield p
    p.close()


@pytest.fixture(scope="session")
def video_frames() -> list[np.ndarray]:
    """Every frame of single_face.mp4 (640x360, 72 frames) as BGR arrays."""
    import av

    with av.open(str(cached_asset("single_face.mp4"))) as box:
        return [f.to_ndarray(format="bgr24") for f in box.decode(video=0)]


@pytest.fixture
def live_env(live_data_dir, tmp_path, monkeypatch) -> Iterator[Path]:
    """The session data dir (model ready) with a fresh SQLite store per test."""
    from core.store.db import dispose_all

    monkeypatch.setenv("AFFECTLAB_DATA_DIR", str(live_data_dir))
    monkeypatch.setenv("AFFECTLAB_DB_URL", f"sqlite:///{tmp_path / 'live.db'}")
    monkeypatch.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
    monkeypatch.delenv("AFFECTLAB_ICE_SERVERS", raising=False)
    monkeypatch.delenv("AFFECTLAB_E2E", raising=False)
    yield tmp_path
    dispose_all()
