"""`predict VIDEO --clip`: a tiny clip model trained here on generated clips of two faces, then run
end to end (detect, track, sample, embed, model) on held-out clips and on the real face video of
the assets, as torch checkpoint and ONNX export; the rendered mp4 keeps every frame and the audio."""
from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from core.clips.predict import clip_predictions, window_spans
from core.label_schema import LabelSchema, TargetSpec
from core.model.clip_config import ClipConfig
from core.video import VideoReader
from tests.clips.clipgen import FACES, write_clip
from tests.conftest import ASSETS

CLASSES = ("Happy", "Sad")
REAL = ASSETS / "single_face.mp4"  # 72 frames at 30 fps, 640x360, an mp3 audio track


def run_cli(capsys, *argv: object) -> tuple[int, dict | None, str]:
    from cli.app import main

    capsys.readouterr()
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    return rc, json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None, out.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, pipeline) -> dict[str, Path]:
    """Face FACES[0] clips labelled Happy, FACES[1] clips Sad; a mean-pool model over the default
    model's frame embeddings learns them; held-out clips of each face for prediction."""
    from core.clips.embed import FrameEmbedder
    from core.clips.sampling import SamplingRule
    from core.clips.track import clip_faces
    from core.model.clip_checkpoint import build_clip_model
    from core.model.clip_export import export_clip_model
    from training.clip_data import ClipData
    from training.clip_train import ClipTrainOptions, train_clip_model

    root = tmp_path_factory.mktemp("clip_predict")
    embedder = FrameEmbedder(None, device="cpu")
    rule = SamplingRule.even(8)
    arrays, labels = [], []
    for i in range(2):
        for label, face in enumerate(FACES[:2]):
            path = write_clip(root / f"train_{face}_{i}.mp4", frames=16 + 4 * i, face=face, audio_hz=None)
            faces = clip_faces(path, rule, pipeline)
            array = np.full((8, embedder.dim), np.nan, np.float32)
            array[faces.mask] = embedder(faces.crops[faces.mask])
            arrays.append(array)
            labels.append(label)
    schema = LabelSchema(classes=CLASSES, stress=False)
    config = ClipConfig(kind="mean_mlp", schema=schema.to_dict(), tasks=["emotion"], frames=8,
                        input_dim=embedder.dim, d_model=16, hidden=32, dropout=0.0,
                        sampling=rule.to_dict(), embedder=embedder.version)
    data = ClipData.from_arrays(arrays, {"emotion": np.array(labels)}, frames=8)
    ckpt = root / "clip.pt"
    train_clip_model(build_clip_model(config), data, options=ClipTrainOptions(epochs=60, batch_size=4, lr=3e-3,
                                                                                threads=1), out=ckpt)
    onnx = Path(export_clip_model(ckpt)["path"])
    held = {face: write_clip(root / f"held_{face}.mp4", frames=24, face=face, audio_hz=330.0) for face in FACES[:2]}
    return {"ckpt": ckpt, "onnx": onnx, **held}


@pytest.mark.parametrize("which", ["ckpt", "onnx"])
def test_predict_clip_recovers_the_trained_label_on_held_out_clips(capsys, trained, which):
    for face, expected in zip(FACES[:2], CLASSES):
        rc, out, err = run_cli(capsys, "predict", trained[face], "--clip", "--model", trained[which], "--json")
        assert rc == 0, err
        assert out["model"]["backend"] == ("onnx" if which == "onnx" else "torch")
        assert out["model"]["kind"] == "mean_mlp" and out["model"]["tasks"] == ["emotion"]
        [window] = out["windows"]
        assert window["frames"] == 8 and window["face_frames"] == 8
        pred = window["prediction"]
        assert pred["emotion"] == expected, (face, pred["probs"])
        assert sum(pred["probs"].values()) == pytest.approx(1.0)
        # no V/A or stress head: the emotion prior, flagged as such
        assert pred["flags"] == {"emotion": "trained", "va": "prior", "stress": "prior"}
        assert out["embedder"].startswith("fer_mini_xception@")  # the version the checkpoint names


def test_predict_clip_render_on_the_real_video_keeps_frames_and_audio(capsys, trained, tmp_path):
    out_mp4 = tmp_path / "annotated.mp4"
    rc, out, err = run_cli(capsys, "predict", REAL, "--clip", "--model", trained["ckpt"], "--window", "1",
                           "--stride", "0.5", "--render", out_mp4, "--json")
    assert rc == 0, err
    assert [(w["start"], w["end"]) for w in out["windows"]] == [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0), (1.4, 2.4)]
    assert all(w["prediction"]["emotion"] in CLASSES and w["coverage"] > 0.5 for w in out["windows"])
    assert out["render"]["frames"] == 72 and out["render"]["audio"] == "mp3"  # the source's stream, copied
    with VideoReader(out_mp4) as reader:
        frames = list(reader.frames())
        assert len(frames) == 72 and reader.damage is None
        assert frames[0].image.shape == (360, 640, 3)
    with VideoReader(REAL) as reader:
        first = next(reader.frames()).image
    assert np.abs(frames[0].image.astype(int) - first).mean() > 1  # overlays drawn
    with av.open(str(out_mp4)) as container:
        [audio] = container.streams.audio
        decoded = sum(f.samples for f in container.decode(audio))
        assert decoded / audio.codec_context.sample_rate == pytest.approx(2.4, abs=0.2)


def test_predict_clip_text_marks_the_prior_heads(capsys, trained):
    from cli.app import main

    capsys.readouterr()
    assert main(["predict", str(trained[FACES[0]]), "--clip", "--model", str(trained["ckpt"])]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith(f"{trained[FACES[0]]} [0.0-1.0 s]: Happy ") and line.endswith("(va prior, stress prior)")


def test_predict_clip_refuses_an_image_model_and_non_video(capsys, trained, tmp_path):
    rc, out, err = run_cli(capsys, "predict", REAL, "--clip", "--json")
    assert rc == 1 and "clip model" in out["error"]
    still = tmp_path / "a.jpg"
    still.write_bytes((ASSETS / "single_face.jpg").read_bytes())
    rc, out, _ = run_cli(capsys, "predict", still, "--clip", "--model", trained["ckpt"], "--json")
    assert rc == 1 and "reads a video" in out["error"]
    rc, _, err = run_cli(capsys, "predict", REAL, "--render", tmp_path / "x.mp4")
    assert rc != 0 and "--clip" in err


def test_window_spans_cover_the_video():
    assert window_spans(2.4, None, None) == [(0.0, 2.4)]
    assert window_spans(2.4, 5.0, None) == [(0.0, 2.4)]
    assert window_spans(3.0, 1.0, None) == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]
    spans = window_spans(2.5, 1.0, 1.0)
    assert spans[-1] == (1.5, 2.5) and len(spans) == 3
    with pytest.raises(ValueError, match="positive"):
        window_spans(3.0, 1.0, -1.0)


def test_clip_predictions_follow_the_schema_mode_and_ranges():
    schema = LabelSchema(classes=("Happy", "Sad", "Anger"), emotion_mode="multi", dominance=True,
                         targets=(TargetSpec("openness", 0.0, 1.0),))
    config = ClipConfig(kind="mean_mlp", schema=schema.to_dict(), tasks=["emotion", "va", "dominance", "targets"],
                        frames=4, input_dim=8)
    raw = {"emotion": np.array([[3.0, -3.0, 0.5]]), "va": np.array([[0.4, -0.2]]),
           "dominance": np.array([[0.3]]), "targets": np.array([[1.7]])}
    [pred] = clip_predictions(raw, config)
    assert pred.mode == "multi" and pred.emotions == ["Happy", "Anger"]
    assert (pred.valence, pred.arousal) == pytest.approx((0.4, -0.2)) and pred.dominance == pytest.approx(0.3)
    assert pred.targets == {"openness": 1.0}  # clipped into its range
    assert pred.flags["va"] == "trained" and pred.flags["stress"] == "prior" and pred.flags["openness"] == "trained"
