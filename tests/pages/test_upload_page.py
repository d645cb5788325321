"""AppTest of the Upload page: real face photos annotated, a corrupt file refused, a video timeline."""
from __future__ import annotations

import pytest

from core.assets import asset_path


@pytest.fixture
def upload(app):
    return app("upload")


def test_images_every_face_annotated_and_priors_marked(upload):
    at = upload
    at.file_uploader(key="upload_images").set_value([
        ("happy.jpg", asset_path("0-f15-hao-ph.jpg").read_bytes(), "image/jpeg"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")]).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 1 and table["emotion"][0] == "Happy" and abs(table.iloc[0][
        ["Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt"]].sum() - 1) < 1e-3
    assert table["V/A"][0] == "prior" and "prior" in at.caption[0].value
    assert "broken.jpg" in at.error[0].value
    assert len(at.get("image")) >= 1


def test_video_timeline_and_csv(upload):
    at = upload
    at.file_uploader(key="upload_video").set_value(("clip.mp4", asset_path("single_face.mp4").read_bytes(),
                                                     "video/mp4")).run()
    at.slider(key="up_fps").set_value(4.0).run()
    at.button(key="analyse").click().run()
    assert not at.exception, at.exception
    name, df = at.session_state["timeline"]
    assert name == "clip.mp4" and df["frame"].nunique() >= 8 and (df["face"] == 0).sum() >= 8
    assert df["time_s"].is_monotonic_increasing and df["valence"].between(-1, 1).all()
    assert at.get("download_button") and len(at.get("plotly_chart")) == 1


def test_broken_video_is_a_clear_error(upload):
    at = upload
    at.file_uploader(key="upload_video").set_value(("bad.mp4", b"\x00" * 5000, "video/mp4")).run()
    at.button(key="analyse").click().run()
    assert not at.exception and "bad.mp4" in at.error[0].value
