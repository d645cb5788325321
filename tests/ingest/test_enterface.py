"""eNTERFACE'05 import: label from the emotion folder, subject from the `subject N` folder (names
are unreliable), inconsistent depth, AVI clips; files outside the layout are located errors."""
from __future__ import annotations

import pytest

from core.ingest import ImportFailed, import_path
from tests.ingest.clipsets import N, clip, sample_count, store_files, stored

OPTS = {"clip_frames": N}


def test_folders_give_label_and_subject(env, read):
    root = env / "enterface"
    clip(root / "subject 1" / "anger" / "sentence 1" / "s1_an_1.avi")
    clip(root / "subject 11" / "happiness" / "sentence 2" / "extra" / "s12_ha_2.avi", face="0-f1-su-ph.jpg",
         audio_hz=None)  # an s12_ name in subject 11, one folder deeper
    report = import_path("enterface", root, dataset="ef", options=OPTS)
    assert not report.errors and report.added == 2
    got = stored(read, "ef")
    anger, a_clip = got["subject 1/anger/sentence 1/s1_an_1.avi"]
    happy, h_clip = got["subject 11/happiness/sentence 2/extra/s12_ha_2.avi"]
    assert (anger.cur_emotion, anger.subject, happy.cur_emotion, happy.subject) == ("Anger", "1", "Happy", "11")
    assert (a_clip.has_audio, h_clip.has_audio) == (True, False) and a_clip.frames == N


@pytest.mark.parametrize(("rel", "field"), [
    ("subject 2/sentence 1/s2_an_1.avi", "emotion"),  # no emotion folder
    ("anger/sentence 1/s2_an_1.avi", "subject"),  # no subject folder
])
def test_files_outside_the_layout_are_refused(env, read, rel, field):
    root = env / "enterface"
    clip(root / "subject 1" / "fear" / "sentence 1" / "s1_fe_1.avi")
    clip(root / rel)
    with pytest.raises(ImportFailed) as exc:
        import_path("enterface", root, dataset="ef", options=OPTS)
    assert [(e.file, e.field) for e in exc.value.report.errors] == [(rel, field)]
    assert sample_count(read) == 0 and store_files(env) == []
