"""Video and loose-image importers on real faces from registry wheels; the demo dataset."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from core.assets import asset_path
from core.demo import POSED, prepare_demo
from core.ingest import ImportFailed, import_path
from core.store.models import Feature, Media, Sample
from core.video import VideoReader


def test_images_find_every_face_and_keep_their_source(env, read):
    folder = env / "photos"
    folder.mkdir()
    for name in ("single_face.jpg", "multi_face.jpg"):
        shutil.copyfile(asset_path(name), folder / name)
    report = import_path("images", folder, dataset="pics")
    assert report.added == 6 and not report.errors  # 1 + 5 faces
    with read() as s:
        rows = s.scalars(select(Sample).order_by(Sample.id)).all()
        media = s.scalars(select(Media)).all()
        meshes = s.scalar(select(func.count()).select_from(Feature).where(Feature.kind == "mesh468"))
    assert len(media) == 2 and all(m.kind == "image" for m in media)
    assert {r.source_path for r in rows} == {"single_face.jpg", "multi_face.jpg"}
    assert all(len(r.keypoints) == 5 and len(r.bbox) == 4 and 0 <= r.quality <= 1 for r in rows)
    assert all(r.cur_emotion is None for r in rows) and meshes == 6
    assert (env / "data" / rows[0].crop_path).exists()
    again = import_path("images", folder, dataset="pics")
    assert again.added == 0 and again.existing == 6


def test_image_without_face_alone_is_an_error_in_a_folder_it_is_skipped(env):
    import cv2
    import numpy as np

    blank = env / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 127, np.uint8))
    with pytest.raises(ImportFailed, match="no face found"):
        import_path("images", blank, dataset="x")
    report = import_path("images", env, dataset="x", options={"detector": "short"})
    assert report.skipped.get("image without a face", 0) >= 1


def test_video_sampling_by_fps_and_by_count(env, read):
    report = import_path("video", asset_path("single_face.mp4"), dataset="vid", options={"frames": 6})
    assert report.added == 6 and not report.errors
    with read() as s:
        rows = s.scalars(select(Sample).order_by(Sample.frame_index)).all()
        media = s.scalars(select(Media)).one()
    assert media.kind == "video" and media.fps > 0 and media.frames > 0
    assert rows[0].frame_index == 0 and rows[-1].frame_index == media.frames - 1
    assert all(abs(r.timestamp - r.frame_index / media.fps) < 1e-3 for r in rows)
    assert {r.subject for r in rows} == {"single_face"}
    with VideoReader(asset_path("single_face.mp4")) as reader:  # by time stamp: 5 per second
        got = [(f.index, f.seconds) for f in reader.sample(fps=5)]
    step = round(media.fps / 5)
    assert [i for i, _ in got] == list(range(0, media.frames, step))
    assert all(abs(t - i / media.fps) < 1e-3 for i, t in got)
    with VideoReader(asset_path("single_face.mp4")) as reader:
        assert [f.index for f in reader.sample(frames=3)] == [0, round((media.frames - 1) / 2), media.frames - 1]


def test_video_emotion_from_folder(env, read):
    clips = env / "clips" / "Happy"
    clips.mkdir(parents=True)
    shutil.copyfile(asset_path("single_face.mp4"), clips / "a.mp4")
    import_path("video", env / "clips", dataset="vid", options={"frames": 3})
    with read() as s:
        assert set(s.scalars(select(Sample.cur_emotion))) == {"Happy"}


def test_video_without_faces_and_broken_video_are_errors(env, read):
    with pytest.raises(ImportFailed, match="no face found in"):
        import_path("video", asset_path("no_face.mp4"), dataset="v", options={"frames": 5})
    broken = env / "broken.mp4"
    broken.write_bytes(asset_path("single_face.mp4").read_bytes()[:3000])
    with pytest.raises(ImportFailed, match="broken|decode"):
        import_path("video", broken, dataset="v")
    with read() as s:
        assert s.scalar(select(func.count()).select_from(Sample)) == 0
    assert not list((env / "data").rglob("*.png"))  # refused imports leave no crops behind


def test_demo_dataset_is_real_faces_labelled_from_file_names_and_idempotent(env, read):
    stats = prepare_demo()
    assert stats["samples"] >= 55 and stats["labelled"] == len(POSED)
    assert {k for k in stats["by_emotion"] if k != "none"} == set(POSED.values())
    assert set(stats["by_split"]) <= {"train", "val", "test"}
    again = prepare_demo(force=True)
    assert again["samples"] == stats["samples"] and all(r["added"] == 0 for r in again["imports"])
    with read() as s:
        subjects = set(s.scalars(select(Sample.subject).where(Sample.cur_emotion.is_not(None))))
        predicted = s.scalar(select(func.count()).select_from(Sample).where(Sample.has_prediction.is_(True)))
        happy = s.scalar(select(Sample.pred_emotion).where(Sample.cur_emotion == "Happy"))
    assert subjects == {"f1", "f15", "f13", "m7"}
    assert predicted == stats["samples"] and happy == "Happy"  # pre-labelled by the default model
