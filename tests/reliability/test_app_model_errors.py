"""A damaged model chosen in the app (Models page, Upload, Live): one message naming the model and
the cause, no traceback, no server folder. Generated: truncated tensor records, weights that do not
fit their config, garbage and mislabelled ONNX files, unreadable model cards x the three pages."""
from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT, get_settings
from core.jobs.status import RunStatus
from core.jobs.store import create_run
from core.model.checkpoint import save_checkpoint
from core.model.config import ModelConfig
from core.model.net import build_model
from core.store.db import write_session
from tests.reliability.corpus import REPORT
from tests.store.seed import seed_samples
from training import runs


def _good(path: Path) -> Path:
    config = ModelConfig()
    return save_checkpoint(path, build_model(config), config)


def _cut_record(keep: float) -> Callable[[Path], Path]:
    """The zip stays readable (its config is listed), the largest tensor record is cut short."""
    def build(path: Path) -> Path:
        src = _good(path.with_suffix(".src"))
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zout:
            largest = max(zin.infolist(), key=lambda i: i.file_size).filename
            for info in zin.infolist():
                data = zin.read(info)
                zout.writestr(info.filename, data[:int(len(data) * keep)] if info.filename == largest else data)
        src.unlink()
        return path
    return build


def _config_changed(**changes) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        payload = torch.load(_good(path), weights_only=True)
        payload["config"].update(changes)
        torch.save(payload, path)
        return path
    return build


def _bytes(data: bytes) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return build


def _checkpoint_as_onnx(path: Path) -> Path:
    _good(path.with_suffix(".pt")).rename(path)
    return path


def _onnx_with_bad_card(path: Path) -> Path:
    path.write_bytes(b"\x08\x07garbage")
    path.with_name(path.name + ".json").write_text("{not json")
    return path


RUNS = {"tensor record cut to 0%": _cut_record(0.0), "tensor record cut to 10%": _cut_record(0.1),
        "tensor record cut to 60%": _cut_record(0.6), "tensor record cut to 99%": _cut_record(0.99),
        "weights of another backbone": _config_changed(backbone="mobilenet_v2"),
        "fewer classes than weights": _config_changed(classes=["Neutral", "Happy"])}
FILES = {"random bytes .onnx": _bytes(np.random.default_rng(3).bytes(3000)), "empty .onnx": _bytes(b""),
         "text .onnx": _bytes(b"not a model\n" * 40), "checkpoint named .onnx": _checkpoint_as_onnx,
         "ONNX with a garbage card": _onnx_with_bad_card}
PAGES = {"models": "models_pick", "upload": "upload_model", "live": "live_model"}


def broken_model(kind: str) -> tuple[str, str]:
    """Write the broken model into the models dir; (its catalog label, its file name)."""
    models = get_settings().models_dir
    if kind in FILES:
        (models / "exports").mkdir(parents=True, exist_ok=True)
        path = FILES[kind](models / "exports" / "broken.onnx")
        return "broken.onnx (ONNX export)", path.name
    run_id = create_run({"dataset": "demo", "backbone": "mini_xception", "name": "broken"},
                        status=RunStatus.STARTING)
    folder = models / f"run-{run_id}"
    folder.mkdir(parents=True)
    path = RUNS[kind](folder / "best.pt")
    runs.write_metrics(run_id, {}, str(path))
    runs.finish(run_id, RunStatus.SUCCEEDED)
    return f"run {run_id}: broken", path.name


@pytest.fixture
def store(env):
    import streamlit as st

    with write_session() as s, s.begin():
        seed_samples(s, 4, dataset="demo")
    st.cache_data.clear()
    yield env
    st.cache_data.clear()


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("kind", [*RUNS, *FILES])
def test_a_damaged_model_is_a_message_not_a_traceback(store, page, kind):
    label, name = broken_model(kind)
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.session_state[PAGES[page]] = label  # chosen in the page's model box
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    shown = [e.value for e in at.error]
    REPORT.record("damaged model chosen in the app", clear_error=len(shown) == 1,
                  crash=bool(at.exception), traceback=bool(at.exception))
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key=PAGES[page]).value == label
    assert len(shown) == 1, shown
    text = shown[0].replace("\\", "")
    assert text.startswith("Could not load the model") and name in text, text
    assert str(store) not in text and "Traceback" not in text and "\n" not in text, text
