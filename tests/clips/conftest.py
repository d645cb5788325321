"""Generated clips shared by the clip tests (written once per session with PyAV)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.clips.clipgen import FACES, write_clip
from tests.conftest import ASSETS

FACELESS = range(20, 30)  # frames of clip "tone" that show no face


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tone: 48 frames at 24 fps, a 440 Hz tone, no face in frames 20-29; silent: no audio stream;
    two: a big and a smaller face all along; high: another face with a 2 kHz tone; noface: the
    asset video without any face."""
    root = tmp_path_factory.mktemp("clips")
    return {
        "tone": write_clip(root / "tone.mp4", faceless=FACELESS),
        "silent": write_clip(root / "silent.mp4", audio_hz=None),
        "two": write_clip(root / "two.mp4", small_face=FACES[3], audio_hz=None),
        "high": write_clip(root / "high.mp4", face=FACES[1], audio_hz=2000.0, frames=36),
        "noface": ASSETS / "no_face.mp4",
    }


@pytest.fixture(scope="session")
def pipeline():
    from core.faces import FacePipeline

    pipe = FacePipeline()
    yield pipe
    pipe.close()
