"""AppTest of the Upload page on a group photo: every face found by default, rows numbered as drawn."""
from __future__ import annotations

from core.assets import asset_path


def test_group_photo_has_five_numbered_faces(app):
    at = app("upload")
    at.file_uploader(key="upload_images").set_value([
        ("group.jpg", asset_path("multi_face.jpg").read_bytes(), "image/jpeg")]).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["face"]) == [1, 2, 3, 4, 5]  # the numbers drawn beside the faces
