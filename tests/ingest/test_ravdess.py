"""RAVDESS clip import: the 7 two-digit fields of the name (emotion, intensity, actor ...), one clip
sample per video, video-only files without audio, audio-only skipped, located field errors."""
from __future__ import annotations

import pytest

from core.ingest import ImportFailed, import_path
from tests.ingest.clipsets import N, clip, sample_count, store_files, stored

OPTS = {"clip_frames": N}


def test_names_give_emotion_intensity_actor_and_audio(env, read):
    root = env / "ravdess"
    clip(root / "Actor_12" / "01-01-06-02-01-01-12.mp4")  # AV, fearful, strong, actor 12
    clip(root / "Actor_03" / "02-01-02-01-02-02-03.mp4", face="45-m7-di-ph.jpg", audio_hz=None)  # video-only calm
    clip(root / "Actor_03" / "03-01-03-01-01-01-03.mp4")  # audio-only modality: not a clip
    report = import_path("ravdess", root, dataset="rv", options=OPTS)
    assert not report.errors and report.added == 2 and report.skipped == {"RAVDESS audio-only file": 1}
    got = stored(read, "rv")
    fear, fear_clip = got["Actor_12/01-01-06-02-01-01-12.mp4"]
    calm, calm_clip = got["Actor_03/02-01-02-01-02-02-03.mp4"]
    assert (fear.cur_emotion, fear.subject, fear_clip.has_audio) == ("Fear", "12", True)
    assert (calm.cur_emotion, calm.subject, calm_clip.has_audio) == ("Neutral", "03", False)  # calm -> Neutral
    assert fear_clip.frames == N and all(fear_clip.mask)
    from tests.ingest.common import annotations

    raw = annotations(read, calm.id)[0].raw
    assert (raw["emotion"], raw["modality"], raw["statement"], raw["repetition"]) == ("calm", "video-only", 2, 2)
    assert annotations(read, fear.id)[0].raw["intensity"] == "strong"
    again = import_path("ravdess", root, dataset="rv", options=OPTS)
    assert (again.added, again.existing) == (0, 2)


@pytest.mark.parametrize(("name", "field"), [
    ("01-01-09-01-01-01-01.mp4", "emotion"),  # no emotion 09
    ("01-01-01-02-01-01-01.mp4", "intensity"),  # neutral is never strong
    ("01-01-03-01-01-01-25.mp4", "actor"),  # actors 01-24
    ("01-02-08-01-01-01-02.mp4", "emotion"),  # song has no surprised
    ("01-01-03-01-01-12.mp4", "file name"),  # 6 fields
])
def test_malformed_names_are_refused_whole(env, read, name, field):
    root = env / "ravdess"
    clip(root / "01-01-03-01-01-01-01.mp4")
    clip(root / name)
    with pytest.raises(ImportFailed) as exc:
        import_path("ravdess", root, dataset="rv", options=OPTS)
    assert [(e.file, e.field) for e in exc.value.report.errors] == [(name, field)]
    assert sample_count(read) == 0 and store_files(env) == []


def test_av_and_video_only_copies_of_one_take_stay_two_clips(env, read):
    root = env / "ravdess"
    clip(root / "01-01-03-01-01-01-05.mp4")  # the take with its audio
    clip(root / "02-01-03-01-01-01-05.mp4", audio_hz=None)  # the same frames, no audio track
    report = import_path("ravdess", root, dataset="rv", options=OPTS)
    assert report.added == 2
    got = stored(read, "rv")
    av, video_only = got["01-01-03-01-01-01-05.mp4"][1], got["02-01-03-01-01-01-05.mp4"][1]
    assert (av.has_audio, video_only.has_audio) == (True, False) and av.crops_path == video_only.crops_path
