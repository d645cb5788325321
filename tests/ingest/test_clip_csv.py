"""Clip CSV import: video_path[,start,end] rows (several segments of one video), single-label
emotion + V/A, or class distribution columns + traits; located row errors store nothing."""
from __future__ import annotations

import pytest

from core.ingest import ImportFailed, import_path
from core.store.datasets import dataset_schema
from core.store.models import Dataset
from tests.ingest.clipsets import N, clip, sample_count, store_files, stored, stored_list

OPTS = {"clip_frames": N}


def _table(root, rows: list[str], header: str) -> object:
    path = root / "clips.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_segments_of_one_video_with_emotion_and_va(env, read):
    root = env / "cc"
    clip(root / "videos" / "talk.mp4", frames=48)  # 2 s
    clip(root / "videos" / "quiet.mp4", audio_hz=None, face="15-f13-anc-ph.jpg")
    path = _table(root, ["videos/talk.mp4,0,1,happy,0.5,0.25,ana",
                         "videos/talk.mp4,1,2,sad,-0.5,-0.2,ana",
                         "videos/quiet.mp4,,,neutral,0,0,"], "video_path,start,end,emotion,valence,arousal,subject")
    report = import_path("clip-csv", path, dataset="cc", options=OPTS)
    assert not report.errors and report.added == 3
    got = {(sample.source_path, round(c.start, 2)): (sample, c) for sample, c in stored_list(read, "cc")}
    first, c1 = got[("videos/talk.mp4", 0.0)]
    second, c2 = got[("videos/talk.mp4", 1.0)]
    quiet, c3 = got[("videos/quiet.mp4", 0.0)]
    assert (first.cur_emotion, first.cur_valence, first.cur_arousal, first.subject) == ("Happy", 0.5, 0.25, "ana")
    assert (second.cur_emotion, c2.end) == ("Sad", 2.0) and c1.end == 1.0
    assert min(c2.frame_indices) >= 24 > max(c1.frame_indices)  # each clip's own frames
    assert c1.media_id == c2.media_id and (c1.has_audio, c3.has_audio) == (True, False)
    assert quiet.subject == "quiet" and c3.end == pytest.approx(0.5, abs=0.05)  # whole video, subject = stem
    again = import_path("clip-csv", path, dataset="cc", options=OPTS)
    assert (again.added, again.existing) == (0, 3)


def test_distribution_columns_and_traits_set_the_schema(env, read):
    root = env / "cc"
    clip(root / "a.mp4")
    path = _table(root, ["a.mp4,3,1,0,0.6,0.7"], "video_path,happy,sad,anger,openness,extraversion")
    report = import_path("clip-csv", path, dataset="dist", options=OPTS)
    assert not report.errors and report.added == 1
    (sample, c), = stored(read, "dist").values()
    assert sample.cur_distribution == {"Happy": 0.75, "Sad": 0.25}
    assert sample.cur_targets == {"openness": 0.6, "extraversion": 0.7} and c.frames == N
    with read() as s:
        schema = dataset_schema(s.query(Dataset).filter_by(name="dist").one())
    assert schema.emotion_mode == "distribution" and [t.name for t in schema.targets] == ["extraversion", "openness"]


def test_bad_rows_are_located_and_nothing_is_stored(env, read):
    root = env / "cc"
    clip(root / "a.mp4")
    rows = ["a.mp4,0,0.4,happy,0,0",
            "a.mp4,0.3,0.2,happy,0,0",  # end before start
            "gone.mp4,0,0.4,happy,0,0",  # no such video
            "a.mp4,0,0.4,glee,0,0",  # duplicate clip ... and an unknown emotion
            "../x.mp4,0,0.4,sad,0,0",  # escapes the folder
            "a.mp4,0.1,0.4,sad,5,0"]  # valence outside the scale
    path = _table(root, rows, "video_path,start,end,emotion,valence,arousal")
    with pytest.raises(ImportFailed) as exc:
        import_path("clip-csv", path, dataset="cc", options=OPTS)
    located = {(e.line, e.field) for e in exc.value.report.errors}
    assert located == {(3, "end"), (4, "video_path"), (5, "emotion"), (6, "video_path"), (7, "valence")}
    assert sample_count(read) == 0 and store_files(env) == []
