"""`affectlab predict` and `export-model` through cli.app.main (in-process; see tests/cli/conftest.py)."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.inference.common import make_tiny_resnet


def test_predict_folder_reports_corrupt_file_and_predicts_the_good_one(cli, asset, default_ckpt,
                                                                         default_onnx, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(asset("0-f15-hao-ph.jpg"), folder / "good.jpg")
    (folder / "corrupt.jpg").write_bytes(asset("single_face.jpg").read_bytes()[:2000])
    (folder / "notes.txt").write_text("not an image")  # ignored: not an image or video name
    rc, out, err = cli("predict", folder, "--model", default_ckpt, "--json")
    assert rc == 0 and out["ok"] is True
    assert out["backend"] == "onnx" and out["summary"] == {"files": 2, "read": 1, "failed": 1, "faces": 1}
    assert [e["file"] for e in out["errors"]] == [str(folder / "corrupt.jpg")]
    assert "corrupt" in out["errors"][0]["error"] and "skipped:" in err
    (good,) = out["files"]
    assert good["file"] == str(folder / "good.jpg") and good["kind"] == "image"
    (face,) = good["faces"]
    assert face["emotion"] == "Happy" and face["flags"]["va"] == "prior"
    assert sum(face["probs"].values()) == pytest.approx(1.0, abs=1e-6)


def test_predict_nothing_readable_exits_1(cli, default_ckpt, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    rc, out, err = cli("predict", bad, "--model", default_ckpt, "--json")
    assert rc == 1 and out["ok"] is False and "nothing could be processed" in out["error"]
    assert "bad.jpg" in out["error"]


def test_predict_video_samples_frames(cli, asset, default_ckpt, default_onnx):
    rc, out, _ = cli("predict", asset("single_face.mp4"), "--model", default_ckpt, "--frames", "3",
                     "--json")
    assert rc == 0
    (video,) = out["files"]
    assert video["kind"] == "video" and video["frames_sampled"] == 3
    assert len(video["faces"]) == 3 and [f["frame_index"] for f in video["faces"]] == sorted(
        f["frame_index"] for f in video["faces"])


def test_export_model_by_run(cli, env, write):
    from core.config import get_settings
    from core.store.models import Run

    ckpt = make_tiny_resnet(get_settings().models_dir / "runs" / "7" / "best.pt")
    with write() as s, s.begin():
        run = Run(name="tiny", status="done", checkpoint_path=str(ckpt))
        s.add(run)
        s.flush()
        run_id = run.id
    rc, out, err = cli("export-model", "--run", run_id, "--format", "onnx", "--json")
    assert rc == 0 and out["ok"] is True, err
    onnx_file = ckpt.with_name("best.onnx")
    assert out["path"] == str(onnx_file) and onnx_file.is_file()
    card = json.loads(onnx_file.with_name("best.onnx.json").read_text())
    assert card["backbone"] == "resnet18" and card["parity"]["max_abs_diff_all"] <= 1e-4


def test_export_model_errors(cli, env, write):
    from core.store.models import Run

    with write() as s, s.begin():
        run = Run(name="queued", status="queued")
        s.add(run)
        s.flush()
        run_id = run.id
    rc, out, _ = cli("export-model", "--run", run_id, "--json")
    assert rc == 1 and "no checkpoint" in out["error"]
    rc, out, _ = cli("export-model", "--run", 999, "--json")
    assert rc == 1 and "no run 999" in out["error"]
    rc, out, _ = cli("export-model", "--checkpoint", env / "missing.pt", "--json")
    assert rc == 1 and "no such checkpoint" in out["error"]
