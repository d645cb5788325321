"""AppTest of the Upload page's clip mode: a clip model (an ONNX export in the models dir) over the
real face video gives a per-window table and the annotated mp4 (every frame, the audio) to download."""
from __future__ import annotations

import av
import pytest

from core.assets import asset_path


@pytest.fixture
def clip_export(seeded):
    from core.clips.embed import FrameEmbedder
    from core.config import get_settings
    from core.model.clip_checkpoint import build_clip_model, save_clip_model
    from core.model.clip_config import ClipConfig
    from core.model.clip_export import export_clip_model

    embedder = FrameEmbedder(None, device="cpu")
    config = ClipConfig(kind="mean_mlp", frames=8, input_dim=embedder.dim, d_model=16, hidden=16,
                        embedder=embedder.version)
    ckpt = save_clip_model(get_settings().models_dir / "clips" / "clip_model.pt", build_clip_model(config))
    return export_clip_model(ckpt)["path"]


def test_clip_mode_gives_windows_and_the_annotated_video(app, clip_export, tmp_path):
    at = app("upload", timeout=180)
    assert not any(e.key == "up_clip_model" for e in at.selectbox)  # image mode by default
    at.file_uploader(key="upload_video").set_value(("talk.mp4", asset_path("single_face.mp4").read_bytes(),
                                                     "video/mp4")).run()
    at.toggle(key="up_clip").set_value(True).run()
    assert at.selectbox(key="up_clip_model").options == ["clip_model.onnx (ONNX export of a mean_mlp clip model)"]
    at.slider(key="up_clip_window").set_value(1.0).run()
    at.button(key="analyse").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    (table,) = [d.value for d in at.dataframe]
    assert list(table["start_s"]) == [0.0, 1.0, 1.4] and table["emotion"].notna().all()
    name, result, video = at.session_state["clip_result"]
    assert name == "talk.mp4" and result["model"]["backend"] == "onnx"
    out = tmp_path / "annotated.mp4"
    out.write_bytes(video)
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 72
    with av.open(str(out)) as container:
        assert len(container.streams.audio) == 1
    assert any("Download annotated video" in b.label for b in at.get("download_button"))
