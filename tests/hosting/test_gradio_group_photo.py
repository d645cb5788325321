"""The Gradio demo's photo function on a group photo: all five faces by default, numbered as listed."""
from __future__ import annotations

from tests.hosting.common import cached_asset


def test_photo_finds_and_lists_all_five_faces(in_app_env):
    import gradio_app as ga

    _, _, _, text, result = ga.analyze_image(str(cached_asset("multi_face.jpg")), ga.DEFAULT_LABEL,
                                             ["box", "label", "bars"], choices=[ga.DEFAULT_LABEL])
    assert len(result["faces"]) == 5
    assert all(f"**Face {i}**" in text for i in range(1, 6))  # the numbers drawn on the faces
