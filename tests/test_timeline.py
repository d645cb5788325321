"""core.timeline: the progress a video analysis reports covers the whole video (0 -> 1)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.assets import asset_path
from core.timeline import done_fraction, video_timeline


class NoFaces:
    config = SimpleNamespace(classes=["Happy", "Sad"])

    def predict_frame(self, frame):
        return []


def test_done_fraction():
    assert done_fraction(3, 1.5, frames=12, duration=None) == 0.25
    assert done_fraction(3, 2.0, frames=None, duration=8.0) == 0.25
    assert done_fraction(9, 9.5, frames=None, duration=8.0) == 1.0
    assert done_fraction(5, None, frames=None, duration=None) == 0.0


@pytest.mark.parametrize("kw", [{"fps": 4.0}, {"frames": 6}])
def test_progress_runs_from_start_to_end_of_the_video(env, kw):
    seen: list[float] = []
    df = video_timeline(asset_path("single_face.mp4"), NoFaces(), progress=lambda f, t: seen.append(f), **kw)
    assert len(seen) == df["frame"].nunique() >= 6
    assert seen == sorted(seen) and 0 <= seen[0] < 0.5 < seen[-1] and 0.85 <= seen[-1] <= 1.0
