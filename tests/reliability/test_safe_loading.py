"""Safe loading: a checkpoint whose pickle would run code is refused everywhere a model or training
state is loaded, and uploads are size-capped and never written under a user-chosen name."""
from __future__ import annotations

import pickle
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from core.model.checkpoint import FORMAT, load_checkpoint


class Payload:
    """Unpickling this calls Path.write_text(marker, "pwned"): code execution, in miniature."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.write_text, (self.marker, "pwned")


def _evil_checkpoint(path: Path, marker: Path, *, legacy: bool = False) -> Path:
    """An AffectLab-looking checkpoint with the payload hidden in its metrics."""
    payload = {"format": FORMAT, "config": {}, "state_dict": {"w": torch.zeros(2)}, "metrics": Payload(marker)}
    if legacy:  # a plain pickle stream, as older torch versions wrote
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)
    return path


@pytest.fixture
def evil(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "PWNED"
    return _evil_checkpoint(tmp_path / "model.pt", marker), marker


def test_the_payload_is_live_when_loaded_unsafely(tmp_path):
    """Control, in a child process: full unpickling really runs the payload."""
    marker = tmp_path / "control-marker"
    path = _evil_checkpoint(tmp_path / "control.pt", marker)
    code = f"import torch; torch.load({str(path)!r}, weights_only=False)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, capture_output=True, timeout=120)
    assert marker.read_text() == "pwned"


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-pickle"])
def test_load_checkpoint_refuses_a_malicious_pickle(tmp_path, legacy):
    marker = tmp_path / "PWNED"
    path = _evil_checkpoint(tmp_path / "model.pt", marker, legacy=legacy)
    with pytest.raises(ValueError, match="refused") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_training_state_refuses_a_malicious_pickle(evil):
    from training.state import load_state

    path, marker = evil
    with pytest.raises((pickle.UnpicklingError, ValueError)):
        load_state(path)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["model.pt", "model.ts.pt"])
def test_predictor_refuses_a_malicious_checkpoint(evil, name):
    from core.inference import Predictor

    path, marker = evil
    path = path.rename(path.with_name(name))
    with pytest.raises((ValueError, RuntimeError)):
        Predictor(path, backend="auto")
    assert not marker.exists()


def test_predict_cli_refuses_with_a_clear_error(evil):
    path, marker = evil
    photo = REPO_ROOT / "data" / "assets" / "single_face.jpg"
    out = subprocess.run([sys.executable, "-m", "core", "predict", str(photo), "--model", str(path), "--json"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "refused" in out.stderr and not marker.exists()


# -- uploads ---------------------------------------------------------------------------------------

def _upload_page(env) -> AppTest:
    folder = "app_pages" if (REPO_ROOT / "app_pages").is_dir() else "pages"
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.session_state["demo_ready"] = True
    at.run()
    at.switch_page(f"{folder}/upload.py").run()
    assert not at.exception, at.exception
    return at


def _upload_limits() -> tuple[int, int]:
    source = (REPO_ROOT / "app_pages" / "upload.py").read_text() if (REPO_ROOT / "app_pages").is_dir() \
        else (REPO_ROOT / "pages" / "upload.py").read_text()
    line = next(ln for ln in source.splitlines() if ln.startswith("MAX_IMAGE_MB, MAX_VIDEO_MB ="))
    image_mb, video_mb = (int(v) for v in line.split("=")[1].split(","))
    return image_mb, video_mb


def test_streamlit_caps_upload_size_in_config():
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    cap = config["server"]["maxUploadSize"]
    image_mb, video_mb = _upload_limits()
    assert isinstance(cap, int) and video_mb <= cap <= 1024, cap  # MiB; the page checks again


def test_upload_page_refuses_oversize_image(env, monkeypatch):
    import core.faces.io as faces_io

    decoded, real = [], faces_io.decode_image

    def spy(data, **kw):  # the page's decode of the upload, not the model's own start-up checks
        if kw.get("name") == "big.jpg":
            decoded.append(len(data))
        return real(data, **kw)

    monkeypatch.setattr(faces_io, "decode_image", spy)
    image_mb, _ = _upload_limits()
    at = _upload_page(env)
    big = b"\xff\xd8\xff" + b"\0" * (image_mb * 2**20)
    at.file_uploader(key="upload_images").set_value([("big.jpg", big, "image/jpeg")]).run()
    assert not at.exception, at.exception
    assert at.error and f"over the {image_mb} MiB limit" in at.error[0].value
    assert decoded == []  # refused before any decoding


def test_upload_page_refuses_oversize_video_and_writes_nothing(env, monkeypatch):
    import core.timeline

    calls = []
    monkeypatch.setattr(core.timeline, "video_timeline", lambda *a, **k: calls.append(a))
    _, video_mb = _upload_limits()
    at = _upload_page(env)
    at.file_uploader(key="upload_video").set_value(("huge.mp4", b"\0" * (video_mb * 2**20 + 1), "video/mp4")).run()
    at.button(key="analyse").click().run()
    assert not at.exception and f"over the {video_mb} MiB limit" in at.error[0].value and calls == []


def test_upload_name_never_becomes_a_path(env, monkeypatch):
    """"../../evil.mp4" is analysed as <data>/uploads/<random>/video.mp4 (core.analyse_job.save_upload),
    a fresh folder removed after the analysis."""
    import core.analyse_job
    import core.timeline

    seen = []

    def spy(path, model, **kw):
        path = Path(path)
        seen.append((path, path.is_file(), path.read_bytes()[:4]))
        return pd.DataFrame([{"frame": 0, "time_s": 0.0, "face": None}])

    monkeypatch.setattr(core.timeline, "video_timeline", spy)
    monkeypatch.setattr(core.analyse_job, "video_seconds", lambda path: 1.0)  # short: analysed inline
    cwd = env / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    at = _upload_page(env)
    at.file_uploader(key="upload_video").set_value(("../../evil.mp4", b"RIFFdata", "video/mp4")).run()
    at.button(key="analyse").click().run()
    assert not at.exception, at.exception
    [(path, existed, head)] = seen
    uploads = (env / "data" / "uploads").resolve()
    assert existed and head == b"RIFF" and path.name == "video.mp4"
    assert path.resolve().parent.parent == uploads and not path.parent.exists()  # a fresh folder, cleaned up
    # wherever "../../evil.mp4" could have landed, relative to the working, upload, data or repo dir
    bases = (cwd, path.parent, env / "data", REPO_ROOT)
    assert [b for b in bases if (b / "../../evil.mp4").resolve().exists()] == []
    assert list(env.rglob("evil.mp4")) == []
    assert "no face" in at.warning[0].value  # the analysis ran on the saved copy
