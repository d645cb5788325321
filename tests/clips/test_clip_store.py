"""Clips in the store: a clip is a Sample (labels, history, edits) plus its clips row; add/get/list,
computed arrays, gc keeps referenced crop stacks, MOSEI/FIV2 segments become clips with --clip-frames."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from core.ingest import import_path
from core.ingest.gc import collect_garbage
from core.store.clips import (
    add_clips,
    check_clip,
    count_clips,
    get_clip,
    is_clip,
    iter_clips,
    list_clips,
    set_clip_array,
)
from core.store.labels import edit_label
from core.store.models import Dataset, Sample
from tests.ingest.clips import face_clip
from tests.ingest.clipsets import clip, stored_list


@pytest.fixture
def two_clips(env, read):
    root = env / "crema"
    clip(root / "1001_DFA_ANG_XX.mp4")
    clip(root / "1002_DFA_SAD_XX.mp4", face="45-m7-di-ph.jpg", audio_hz=None)
    import_path("crema-d", root, dataset="cd", options={"clip_frames": 3})
    with read() as s:
        return s.scalar(select(Dataset.id).where(Dataset.name == "cd")), root


def test_get_list_iter_count_and_arrays(env, read, write, two_clips):
    ds_id, _ = two_clips
    with read() as s:
        clips = list_clips(s, ds_id)
        assert [c.subject for c in clips] == ["1001", "1002"] and count_clips(s, ds_id) == 2
        assert [c.sample_id for c in iter_clips(s, ds_id, page=1)] == [c.sample_id for c in clips]
        assert list_clips(s, ds_id, after_id=clips[0].sample_id) == clips[1:]
        assert list_clips(s, ds_id, split="test") == []
        one = get_clip(s, clips[0].sample_id)
        assert one == clips[0] and one.media_path.startswith("media/") and one.frames == 3
        assert get_clip(s, 10_000) is None and is_clip(s, clips[1].sample_id)
    with write() as s, s.begin():
        set_clip_array(s, clips[0].sample_id, "embeddings", "m@1", {"rel": "x.npy", "dim": 8})
        set_clip_array(s, clips[0].sample_id, "embeddings", "m@2", {"rel": "y.npy", "dim": 4})
        set_clip_array(s, clips[0].sample_id, "audio", None, {"present": True})
        with pytest.raises(LookupError):
            set_clip_array(s, 10_000, "audio", None, {})
    with read() as s:
        got = get_clip(s, clips[0].sample_id)
    assert got.embedding("m@1") == {"rel": "x.npy", "dim": 8} and got.embedding("m@2")["dim"] == 4
    assert got.arrays["audio"] == {"present": True} and got.embedding("other") is None


def test_a_clip_is_labelled_like_a_face(env, read, write, two_clips):
    ds_id, _ = two_clips
    with read() as s:
        sid = list_clips(s, ds_id)[0].sample_id
        head = s.get(Sample, sid).cur_annotation_id
    with write() as s, s.begin():
        edit_label(s, sid, base_annotation_id=head, annotator="ana", emotion="Fear", valence=-0.4)
    with read() as s:
        smp = s.get(Sample, sid)
        assert (smp.cur_emotion, smp.cur_valence, smp.cur_source) == ("Fear", -0.4, "human")
        assert get_clip(s, sid) is not None  # the clip row stays with its sample


def test_add_clips_checks_rows_and_keeps_the_first(env, read, write, two_clips):
    ds_id, _ = two_clips
    with read() as s:
        first = list_clips(s, ds_id)[0]
    row = {"sample_id": first.sample_id, "media_id": None, "start": 0.0, "end": 1.0, "frames": 2,
           "rule": {"mode": "even", "frames": 2}, "frame_indices": [0, 5], "mask": [True, False],
           "crops_sha256": "0" * 64, "crops_path": "clip_crops/00/x.npy", "has_audio": False}
    with write() as s, s.begin():
        add_clips(s, [row])  # the sample has its clip: kept as it is
    with read() as s:
        assert get_clip(s, first.sample_id) == first
    with pytest.raises(ValueError, match="one each per slot"):
        check_clip(row | {"mask": [True]})
    with pytest.raises(ValueError, match="not a range"):
        check_clip(row | {"start": 2.0})
    with pytest.raises(ValueError, match="lacks crops_path"):
        check_clip({k: v for k, v in row.items() if k != "crops_path"})


def test_gc_keeps_referenced_stacks_and_removes_orphans(env, read, two_clips):
    ds_id, _ = two_clips
    with read() as s:
        stacks = [env / "data" / c.crops_path for c in list_clips(s, ds_id)]
    orphan = env / "data" / "clip_crops" / "ab" / ("ab" + "0" * 62 + ".npy")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    np.save(orphan, np.zeros((2, 4, 4, 3), np.uint8))
    result = collect_garbage()
    assert result["removed"]["clip_crops"] == 1 and not orphan.exists()
    assert all(p.is_file() for p in stacks)


def test_mosei_segments_become_clips_with_clip_frames(env, read):
    root = env / "mosei"
    face_clip(root / "vid1.mp4", seconds=3.0, seed=1)
    (root / "labels.csv").write_text("video_id,start,end,sentiment,happy,sad,anger,surprise,disgust,fear\n"
                                     "vid1,0,1,1,2,0,1,0,0,0\nvid1,1.5,2.5,-1,0,3,0,0,0,0\n")
    plain = import_path("mosei", root / "labels.csv", dataset="mo", options={"fps": 1})
    assert plain.added == 4 and {c for _, c in stored_list(read, "mo")} == {None}  # 2 frames per segment only
    report = import_path("mosei", root / "labels.csv", dataset="mo", options={"fps": 1, "clip_frames": 4})
    assert not report.errors and (report.added, report.existing) == (2, 4)
    clips = [(smp, c) for smp, c in stored_list(read, "mo") if c is not None]
    assert [(c.start, c.end, c.frames, smp.subject) for smp, c in clips] == [(0.0, 1.0, 4, "vid1"),
                                                                             (1.5, 2.5, 4, "vid1")]
    assert clips[0][0].cur_distribution == pytest.approx({"Happy": 2 / 3, "Anger": 1 / 3})
    assert clips[1][0].cur_targets == {"sentiment": -1.0} and not clips[0][1].has_audio


def test_fiv2_clips_carry_the_traits(env, read):
    import json

    root = env / "fiv2"
    face_clip(root / "abc.001.mp4", seconds=1.0, seed=2)
    traits = ("extraversion", "neuroticism", "agreeableness", "conscientiousness", "interview", "openness")
    (root / "annotation_training.json").write_text(json.dumps({t: {"abc.001.mp4": 0.5} for t in traits}))
    report = import_path("fiv2", root, dataset="fi", options={"frames": 1, "clip_frames": 3})
    assert not report.errors and report.added == 2
    ((smp, c),) = [x for x in stored_list(read, "fi") if x[1] is not None]
    assert c.frames == 3 and smp.subject == "abc" and smp.split == "train"
    assert smp.cur_targets == {t: 0.5 for t in traits}
