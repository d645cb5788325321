"""The Gradio demo's Video clip tab: its handler on generated videos of a real face (tone track, or
none) through clip ONNX exports in the models dir (single-label emotion only: V/A and stress are the
prior; multi-label with trained V/A and two traits), the limits, and the Blocks app with the tab."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import av
import pytest

from tests.clips.clipgen import write_clip
from tests.conftest import ASSETS

MULTI = ("Anger", "Fear", "Joy")
TRAITS = ("openness", "extraversion")


def export(config_kwargs: dict, name: str) -> str:
    from core.clips.embed import FrameEmbedder
    from core.config import get_settings
    from core.model.clip_checkpoint import build_clip_model, save_clip_model
    from core.model.clip_config import ClipConfig
    from core.model.clip_export import export_clip_model

    embedder = FrameEmbedder(None, device="cpu")
    config = ClipConfig(frames=8, input_dim=embedder.dim, d_model=16, hidden=16, embedder=embedder.version,
                        **config_kwargs)
    ckpt = save_clip_model(get_settings().models_dir / "clips" / f"{name}.pt", build_clip_model(config))
    return export_clip_model(ckpt)["path"]


@pytest.fixture(scope="module")
def clip_env(tmp_path_factory):
    """A store, models dir and Gradio cache of this module's own; two clip exports; three videos."""
    from core.label_schema import LabelSchema, TargetSpec

    root = tmp_path_factory.mktemp("gradio_clip")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"AFFECTLAB_DATA_DIR": root / "data", "AFFECTLAB_DB_URL": f"sqlite:///{root / 'a.db'}",
                           "AFFECTLAB_ASSETS_DIR": ASSETS, "GRADIO_TEMP_DIR": root / "gradio",
                           "PIP_NO_INDEX": "1"}.items():
            mp.setenv(key, str(value))
        mp.delenv("AFFECTLAB_MODELS_DIR", raising=False)
        mp.delenv("AFFECTLAB_LONG_VIDEO_S", raising=False)
        export({"kind": "mean_mlp", "tasks": ["emotion"]}, "single")
        multi = LabelSchema(classes=MULTI, emotion_mode="multi", stress=False,
                            targets=tuple(TargetSpec(t) for t in TRAITS))
        tasks = ["emotion", "va", "targets"]
        export({"kind": "transformer", "schema": multi.to_dict(), "tasks": tasks}, "multi")
        videos = {"talk": write_clip(root / "talk.mp4", frames=48, audio_hz=440.0),
                  "silent": write_clip(root / "silent.mp4", frames=24, audio_hz=None),
                  "noface": write_clip(root / "noface.mp4", frames=24, face=None)}
        yield SimpleNamespace(root=root, videos=videos)
        from core.store.db import dispose_all

        dispose_all()


@pytest.fixture(scope="module")
def gc():
    import gradio_clip

    return gradio_clip


@pytest.fixture(scope="module")
def choices(clip_env, gc) -> dict[str, str]:
    return {i: label for label, i in gc.clip_model_choices()}


def model_id(choices: dict[str, str], name: str) -> str:
    return next(i for i in choices if i.endswith(f"/{name}.onnx"))


@pytest.fixture(scope="module")
def runs(clip_env, gc, choices) -> dict[str, tuple]:
    """The handler's six outputs, run once per case (each a real detect-track-embed-model-render)."""
    single, multi = model_id(choices, "single"), model_id(choices, "multi")
    cases = {"single": ("talk", single, 0.0, 0.0), "timeline": ("talk", multi, 1.0, 0.5),
             "silent": ("silent", single, 0.0, 0.0), "noface": ("noface", single, 0.0, 0.0)}
    seen = []
    out = {k: gc.analyze_clip(str(clip_env.videos[v]), m, w, s, choices=choices, max_mb=25,
                              progress=lambda done, desc: seen.append(done))
           for k, (v, m, w, s) in cases.items()}
    assert (3, 3) in seen  # the timeline's windows reported as they finish
    return out


def decoded(path: str) -> tuple[int, int]:
    """(video frames decoded, audio streams) of an mp4."""
    with av.open(path) as container:
        audio = len(container.streams.audio)
        frames = sum(1 for _ in container.decode(video=0))
    return frames, audio


def test_catalog_clip_models_are_the_choices(choices):
    assert sorted(choices.values()) == ["multi.onnx (ONNX export of a transformer clip model)",
                                        "single.onnx (ONNX export of a mean_mlp clip model)"]


def test_whole_video_one_clip_with_prior_flags(clip_env, runs):
    video, download, label, fig, text, result = runs["single"]
    assert video == download and Path(video).is_relative_to(clip_env.root / "gradio")  # Gradio's cache
    assert decoded(video) == (48, 1)  # every frame, the source's tone kept
    assert result["render"] == {"frames": 48, "audio": "aac", "seconds": 2.0}
    [window] = result["windows"]
    assert (window["start"], window["end"], window["frames"], window["face_frames"]) == (0.0, 2.0, 8, 8)
    pred = window["prediction"]
    assert pred["flags"] == {"emotion": "trained", "va": "prior", "stress": "prior"}
    assert set(label) == set(pred["probs"]) and abs(sum(label.values()) - 1) < 1e-6
    assert max(label, key=label.get) == pred["emotion"]
    assert -1 <= pred["valence"] <= 1 and 0 <= pred["stress"] <= 1
    assert "V/A (prior)" in text and "Stress (prior)" in text and "*(prior)*" in text
    assert "0.0-2.0 s" in text and "8/8 frames with the face" in text and "aac audio kept" in text
    assert result["file"] == "talk.mp4" and result["model"]["label"].startswith("single.onnx")
    assert "path" not in result["model"] and "path" not in result["render"]  # no server path
    assert str(clip_env.root) not in repr(result)


def test_sliding_window_timeline_multi_label_and_traits(runs):
    video, _, label, fig, text, result = runs["timeline"]
    assert [(w["start"], w["end"]) for w in result["windows"]] == [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0)]
    assert result["model"]["mode"] == "multi" and result["window"] == 1.0 and result["stride"] == 0.5
    for w in result["windows"]:
        p = w["prediction"]
        assert p["mode"] == "multi" and set(p["targets"]) == set(TRAITS)
        assert p["emotions"] == [c for c in MULTI if p["probs"][c] >= 0.5]
        assert p["flags"] == {"emotion": "trained", "va": "trained", "stress": "prior",
                              "openness": "trained", "extraversion": "trained"}
    assert set(label) == set(MULTI)
    names = [t.name for t in fig.data]
    assert names == [*MULTI, "valence", "arousal", "stress (prior)", *TRAITS]
    assert list(fig.data[0].x) == [0.5, 1.0, 1.5]
    assert list(fig.data[-1].y) == [w["prediction"]["targets"]["extraversion"] for w in result["windows"]]
    assert text.count("\n- **") == 3 and "openness" in text and "V/A valence" in text
    assert "Stress (prior)" in text
    assert decoded(video) == (48, 1)


def test_source_without_audio_renders_without_audio(runs):
    video, *_, text, result = runs["silent"]
    assert decoded(video) == (24, 0)
    assert result["render"]["audio"] is None and "no audio track in the source" in text


def test_faceless_video_gives_no_prediction(runs):
    video, _, label, fig, text, result = runs["noface"]
    [window] = result["windows"]
    assert window["prediction"] is None and window["why"] == "no face tracked in the window"
    assert label is None and "No face was tracked in any window" in text
    assert decoded(video) == (24, 1)  # the video is still rendered, with nothing drawn


def test_no_upload_waits(gc):
    assert gc.analyze_clip(None, None, 0, 0, choices={}, max_mb=25)[4].startswith("Upload")


def test_refusals_are_clear_and_keep_the_budget(clip_env, gc, choices, monkeypatch):
    import gradio as gr

    from core import limits
    from core.limits import AnalysisLimiter, Limits

    limiter = AnalysisLimiter(Limits(concurrent=1, analyses=1, admins=True))
    monkeypatch.setattr(limits, "ANALYSES", limiter)
    talk, single = str(clip_env.videos["talk"]), model_id(choices, "single")
    renders = clip_env.root / "gradio" / "affectlab-clips"
    before = sorted(renders.iterdir()) if renders.exists() else []
    with pytest.raises(gr.Error, match="No clip model yet"):
        gc.analyze_clip(talk, None, 0, 0, choices={}, max_mb=25)
    with pytest.raises(gr.Error, match="unknown clip model '/etc/passwd.onnx'"):
        gc.analyze_clip(talk, "/etc/passwd.onnx", 0, 0, choices=choices, max_mb=25)
    with pytest.raises(gr.Error, match=r"talk.mp4: 0.\d MiB is over this demo's 0.01 MiB upload limit"):
        gc.analyze_clip(talk, single, 0, 0, choices=choices, max_mb=0.01)
    notes = clip_env.root / "notes.txt"
    notes.write_text("not a video")
    with pytest.raises(gr.Error, match="notes.txt: not a video file"):
        gc.analyze_clip(str(notes), single, 0, 0, choices=choices, max_mb=25)
    broken = clip_env.root / "broken.mp4"
    broken.write_bytes(b"\x00" * 2048)
    with pytest.raises(gr.Error, match="broken.mp4") as err:
        gc.analyze_clip(str(broken), single, 0, 0, choices=choices, max_mb=25)
    assert str(clip_env.root) not in str(err.value)
    monkeypatch.setenv("AFFECTLAB_LONG_VIDEO_S", "1.5")
    with pytest.raises(gr.Error, match=r"talk.mp4: 2.0 s is longer than this demo analyses \(1.5 s") as err:
        gc.analyze_clip(talk, single, 0, 0, choices=choices, max_mb=25)
    assert "affectlab predict VIDEO --clip" in str(err.value)
    with limiter.analysis(None, "v1"):  # a refusal took no token: the one analysis is still there
        pass
    assert (sorted(renders.iterdir()) if renders.exists() else []) == before  # nothing rendered or left


def test_over_the_visitors_budget_a_warning(clip_env, gc, choices, monkeypatch):
    import gradio as gr
    from gradio.utils import get_type_hints

    from core import limits
    from core.limits import AnalysisLimiter, Limits

    limiter = AnalysisLimiter(Limits(concurrent=1, analyses=1, admins=True))
    monkeypatch.setattr(limits, "ANALYSES", limiter)
    fn = gc.limited_clip(choices, max_mb=25)
    assert get_type_hints(fn)["request"] is gr.Request
    args = (str(clip_env.videos["talk"]), model_id(choices, "single"), 0.0, 0.0)
    busy = pytest.warns(UserWarning, match="1 analysis is already running for you")
    with limiter.analysis(None, "s1"), busy:
        out = fn(*args, SimpleNamespace(session_hash="s1"))
    assert len(out) == 6 and all(o == gr.skip() for o in out)
    with pytest.warns(UserWarning, match="analysis budget spent"):  # the slot above took the one token
        out = fn(*args, SimpleNamespace(session_hash="s1"))
    assert all(o == gr.skip() for o in out)


def test_blocks_app_has_the_clip_tab(clip_env, choices):
    import gradio_app as ga

    demo = ga.build_demo(choices=[ga.DEFAULT_LABEL])
    config = demo.config
    tabs = [c["props"]["label"] for c in config["components"] if c["type"] == "tabitem"]
    assert tabs == ["Webcam", "Photo", "Video clip"]
    assert {f.api_name for f in demo.fns.values()} >= {"analyze_image", "analyze_frame", "analyze_clip"}
    dropdown = next(c for c in config["components"]
                    if c["type"] == "dropdown" and c["props"].get("label") == "Clip model")
    assert sorted(v for _, v in dropdown["props"]["choices"]) == sorted(choices)
    bare = ga.build_demo(choices=[ga.DEFAULT_LABEL], clip_choices=[]).config
    parts = bare["components"]
    assert any(c["type"] == "markdown" and "No clip model yet" in str(c["props"].get("value")) for c in parts)
    button = next(c for c in parts if c["type"] == "button" and c["props"]["value"] == "Analyze clip")
    assert button["props"]["interactive"] is False


@pytest.mark.slow
def test_served_clip_api_returns_the_annotated_video(clip_env, choices):
    """The Blocks app served in process on 127.0.0.1:7871; /analyze_clip through gradio_client with the
    generated video uploaded: the annotated mp4 comes back playable, with its audio."""
    from gradio_client import Client, handle_file

    import gradio_app as ga

    demo = ga.build_demo(choices=[ga.DEFAULT_LABEL])
    demo.queue().launch(server_name="127.0.0.1", server_port=7871, prevent_thread_lock=True, ssr_mode=False,
                        share=False, max_file_size=f"{ga.MAX_UPLOAD_MB}mb", quiet=True)
    try:
        client = Client("http://127.0.0.1:7871/", verbose=False, download_files=str(clip_env.root / "client"))
        assert "/analyze_clip" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        video, download, label, plot, text, result = client.predict(
            handle_file(str(clip_env.videos["talk"])), model_id(choices, "single"), 1.0, 0.0,
            api_name="/analyze_clip")
    finally:
        demo.close()
    assert decoded(video) == (48, 1) and decoded(download) == (48, 1)
    assert [(w["start"], w["end"]) for w in result["windows"]] == [(0.0, 1.0), (1.0, 2.0)]
    assert label["label"] == result["windows"][0]["prediction"]["emotion"]
    assert plot["type"] == "plotly" and "V/A (prior)" in text
