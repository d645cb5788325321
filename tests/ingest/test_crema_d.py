"""CREMA-D clip import: labels and actor from file names, one clip sample per video (sampled
frames, tracked face, masked faceless slots, audio flag), idempotent, located name errors."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from core.ingest import ImportFailed, import_path
from tests.conftest import ASSETS
from tests.ingest.clipsets import N, clip, sample_count, store_files, stored
from tests.ingest.common import annotations

OPTS = {"clip_frames": N}


def test_clips_with_labels_from_names_audio_and_masks(env, read):
    root = env / "crema"
    clip(root / "VideoFlash" / "1001_DFA_ANG_XX.mp4", faceless=range(0, 4))  # slot 0 shows no face
    clip(root / "VideoFlash" / "1002_IEO_HAP_HI.mp4", face="0-f1-su-ph.jpg", audio_hz=None)
    (root / "AudioWAV").mkdir()
    (root / "AudioWAV" / "1001_DFA_ANG_XX.wav").write_bytes(b"RIFF")  # audio files are not clips
    report = import_path("crema-d", root, dataset="cd", options=OPTS)
    assert not report.errors and report.added == 2
    got = stored(read, "cd")
    angry, a_clip = got["VideoFlash/1001_DFA_ANG_XX.mp4"]
    happy, h_clip = got["VideoFlash/1002_IEO_HAP_HI.mp4"]
    assert (angry.cur_emotion, angry.subject, happy.cur_emotion, happy.subject) == ("Anger", "1001", "Happy", "1002")
    assert (a_clip.has_audio, h_clip.has_audio) == (True, False)
    assert a_clip.mask == [False, True, True, True] and all(h_clip.mask)
    assert a_clip.rule == {"mode": "even", "frames": N, "fps": None, "max_frames": None}
    assert a_clip.frames == N and a_clip.start == 0.0 and a_clip.end == pytest.approx(0.5, abs=0.05)
    assert all(i >= 0 for i in a_clip.frame_indices) and a_clip.frame_indices == sorted(a_clip.frame_indices)
    crops = a_clip.crops()
    assert crops.shape[0] == N and crops.dtype == np.uint8
    assert not crops[0].any() and all(crops[i].std() > 10 for i in (1, 2, 3))  # masked slot stays zeros
    assert (env / "data" / angry.crop_path).is_file() and angry.media_id == a_clip.media_id is not None
    assert angry.crop_sha256 != a_clip.crops_path.split("/")[-1].split(".")[0]  # identity: media, range, stack
    raw = annotations(read, angry.id)[0].raw
    assert (raw["emotion"], raw["level"], raw["sentence"]) == ("ANG", "unspecified", "DFA")
    before = store_files(env)
    again = import_path("crema-d", root, dataset="cd", options=OPTS)
    assert (again.added, again.existing, again.relabelled) == (0, 2, 0)
    assert store_files(env) == before and sample_count(read) == 2


def test_bad_names_are_located_and_nothing_is_stored(env, read):
    root = env / "crema"
    clip(root / "1001_DFA_ANG_XX.mp4")
    clip(root / "1001_DFA_XYZ_XX.mp4")  # unknown emotion code
    clip(root / "1001_DFA_ANG.mp4")  # three fields
    clip(root / "10a1_DFA_ANG_XX.mp4")  # actor not 4 digits
    with pytest.raises(ImportFailed) as exc:
        import_path("crema-d", root, dataset="cd", options=OPTS)
    errors = {(e.file, e.field) for e in exc.value.report.errors}
    assert errors == {("1001_DFA_XYZ_XX.mp4", "emotion"), ("1001_DFA_ANG.mp4", "file name"),
                      ("10a1_DFA_ANG_XX.mp4", "actor")}
    assert "XYZ" in str(exc.value) and sample_count(read) == 0 and store_files(env) == []
    report = import_path("crema-d", root, dataset="cd", options=OPTS, skip_invalid=True)
    assert report.added == 1 and report.invalid_rows == 3


def test_faceless_clip_is_skipped_and_counted(env, read):
    root = env / "crema"
    root.mkdir()
    shutil.copy(ASSETS / "no_face.mp4", root / "1003_TIE_SAD_XX.mp4")
    clip(root / "1004_TIE_NEU_XX.mp4")
    report = import_path("crema-d", root, dataset="cd", options=OPTS)
    assert report.added == 1 and report.skipped == {"clip without a visible face": 1}
    assert list(stored(read, "cd")) == ["1004_TIE_NEU_XX.mp4"]


def test_cli_import_with_clip_frames_and_embed_help(env, read):
    from tests.ingest.test_cli import cli, one_json

    clip(env / "crema" / "1005_WSI_FEA_XX.mp4")
    proc = cli("import", "crema-d", str(env / "crema"), "--dataset", "cd", "--clip-frames", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    assert (one_json(proc.stdout)["kind"], one_json(proc.stdout)["added"]) == ("crema-d", 1)
    ((sample, c),) = stored(read, "cd").values()
    assert c.frames == 3 and sample.cur_emotion == "Fear" and sample.subject == "1005"
    helped = cli("import", "--help")
    assert all(kind in helped.stdout for kind in ("crema-d", "ravdess", "enterface", "clip-csv"))
    assert "resumes" in cli("embed", "--help").stdout
