"""One crop geometry: a real face imported and read by the training Dataset gets the same model
input as the same face through the live/predict path (max |difference| <= 1 grey level)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.model.conftest import _asset

VIDEO_FRAMES = (0, 30, 60)  # of single_face.mp4 (72 frames)


class Recorder:
    """Wraps a predictor's runner and keeps every preprocessed batch it is given."""

    def __init__(self, runner):
        self.runner, self.inputs = runner, []

    def __call__(self, x):
        self.inputs.append(np.array(x, copy=True))
        return self.runner(x)


def grey_levels(x: np.ndarray, config) -> np.ndarray:
    """A normalised model input back on the 0..255 scale."""
    std = np.asarray(config.std, np.float32).reshape(1, -1, 1, 1)
    mean = np.asarray(config.mean, np.float32).reshape(1, -1, 1, 1)
    return (np.asarray(x) * std + mean) * 255.0


@pytest.fixture
def real_frames(tmp_path) -> dict[str, np.ndarray]:
    """single_face.jpg and three frames of single_face.mp4, written losslessly to a folder."""
    from core.faces import read_image

    folder = tmp_path / "faces"
    folder.mkdir()
    frames = {"single_face.png": read_image(_asset("single_face.jpg"))}
    cap = cv2.VideoCapture(str(_asset("single_face.mp4")))
    for index in range(max(VIDEO_FRAMES) + 1):
        ok, frame = cap.read()
        assert ok, index
        if index in VIDEO_FRAMES:
            frames[f"frame_{index:03d}.png"] = frame
    cap.release()
    for name, frame in frames.items():
        assert cv2.imwrite(str(folder / name), frame)
    return frames


@pytest.fixture
def predictor(env, fer_model):
    from core.inference import Predictor
    from core.model.checkpoint import save_checkpoint

    path = save_checkpoint(Path(env) / "fer.pt", fer_model)
    p = Predictor(path, backend="torch")
    yield p
    p.close()


def import_folder(folder: Path) -> None:
    """Store the folder's faces with the real importer (loose images, every face aligned)."""
    from core.ingest import import_path

    report = import_path("images", folder, dataset="geometry")
    assert report.added == len(list(folder.iterdir())) and not report.errors


def training_inputs(config) -> dict[str, np.ndarray]:
    """Every stored sample read by the training Dataset (no augmentation): source file name ->
    model input (C, S, S)."""
    from sqlalchemy import select

    from core.config import get_settings
    from core.store.db import read_session
    from core.store.models import Dataset, Sample
    from training.data import AffectDataset, load_rows

    with read_session() as s:
        ds = s.scalar(select(Dataset).where(Dataset.name == "geometry"))
        rows = load_rows(s, ds.id, None, config.classes)
        source = dict(s.execute(select(Sample.id, Sample.source_path)).all())
    data = AffectDataset(rows, get_settings().data_dir, config)
    return {source[int(rows.ids[i])]: data[i]["x"].numpy() for i in range(len(data))}


def max_grey_diff(a: np.ndarray, b: np.ndarray, config) -> float:
    return float(np.abs(grey_levels(a[None], config) - grey_levels(b[None], config)).max())


def test_training_dataset_and_live_path_give_identical_inputs(predictor, real_frames, tmp_path):
    from core.faces.align import align_face
    from core.live import LiveProcessor
    from core.model.config import ModelConfig
    from core.model.preprocess import preprocess_array

    config = predictor.config
    assert config.native_size == 48  # the converted FER model records its preprocessing
    rgb = ModelConfig.for_backbone("resnet18")  # a 112 px RGB model reads the same crops
    import_folder(tmp_path / "faces")
    train, train_rgb = training_inputs(config), training_inputs(rgb)
    assert set(train) == set(real_frames)

    recorder = Recorder(predictor._runner)
    predictor._runner = recorder  # see exactly what the model is given on the live path
    live = LiveProcessor(predictor, smoothing=0.0)
    for name, frame in real_frames.items():
        recorder.inputs.clear()
        live.process(frame.copy())
        snap = live.results.latest()
        assert snap.error is None and len(snap.predictions) == 1, name
        served = recorder.inputs[0][0]
        assert served.shape == train[name].shape == (1, 64, 64)
        diff = max_grey_diff(served, train[name], config)
        assert diff <= 1.0, f"{name}: train/serve inputs differ by {diff:.2f} grey levels"
        # the live capture is the crop the model was given (aligned once per face)
        assert np.array_equal(preprocess_array(snap.crop, config)[0], served)
        served_rgb = preprocess_array(snap.crop, rgb)[0]
        assert served_rgb.shape == train_rgb[name].shape == (3, 112, 112)
        assert max_grey_diff(served_rgb, train_rgb[name], rgb) <= 1.0, name
        # the old serving geometry (a direct 64 px gray warp) was not the training one
        old = align_face(frame, snap.predictions[0].keypoints, size=64, gray=True)
        assert np.abs(old.astype(np.float32) - grey_levels(train[name][None], config)[0, 0]).max() > 10


def test_predict_path_gives_the_training_inputs(predictor, real_frames, tmp_path):
    """The still-image path (predict, Upload, Gradio photos: both detector ranges) too."""
    import_folder(tmp_path / "faces")
    train = training_inputs(predictor.config)
    recorder = Recorder(predictor._runner)
    predictor._runner = recorder
    for name, frame in real_frames.items():
        recorder.inputs.clear()
        (pred,) = predictor.predict_frame(frame)
        assert max_grey_diff(recorder.inputs[0][0], train[name], predictor.config) <= 1.0, name


def test_augmentation_off_is_the_serving_resize():
    from core.faces.crop import resize_crop
    from training.augment import Augment, apply

    crop = np.random.default_rng(3).integers(0, 256, (112, 112, 3), dtype=np.uint8)
    off = Augment(hflip=False, rotate=0.0, color=0.0, crop=0.0)
    out = apply(crop, off, np.random.default_rng(0), 64, gray=True, native_size=48)
    assert np.array_equal(out, resize_crop(crop, 64, gray=True, native_size=48))
    assert out.shape == (64, 64)
