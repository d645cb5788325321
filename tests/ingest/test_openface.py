"""OpenFace FeatureExtraction import: emotion from folders, failed/low-confidence frames, features."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from sqlalchemy import select

from core.ingest import ImportFailed, import_path
from core.ingest.openface_import import GROUPS
from core.store.models import Feature, FeatureKind
from tests.helpers import write_openface
from tests.ingest.common import counts, crop_files, samples, sha

KINDS = {"openface_au", "openface_gaze", "openface_pose", "openface_landmarks2d"}


def _two_clips(root):
    a = write_openface(root, "Anger", "clip", frames=4, fail=(2,), low=(3,))
    h = write_openface(root, "Happy", "video22", frames=3)
    return a, h


def _csv_rows(path) -> dict[int, dict[str, float]]:
    with path.open() as fh:
        return {int(r["frame"]): {k.strip(): float(v) for k, v in r.items()} for r in csv.DictReader(fh)}


def test_emotion_from_folder_failed_frames_out_low_confidence_flagged(env, read):
    root = env / "of"
    _two_clips(root)
    report = import_path("openface", root, dataset="of")
    assert report.errors == [] and report.rows == 7
    assert report.added == 6 and report.flagged == 1  # frame 2 of clip failed tracking: kept out
    assert sum(report.skipped.values()) == 1 and "success" in next(iter(report.skipped))
    s = samples(read, "of")
    assert sorted(s) == sorted([f"Anger/clip_aligned/frame_det_00_{f:06d}.bmp" for f in (1, 3, 4)]
                               + [f"Happy/video22_aligned/frame_det_00_{f:06d}.bmp" for f in (1, 2, 3)])
    low = s["Anger/clip_aligned/frame_det_00_000003.bmp"]
    assert low.flag == "low OpenFace confidence 0.50" and low.cur_emotion == "Anger"
    assert (low.subject, low.frame_index, low.timestamp) == ("clip", 3, pytest.approx(3 / 30))
    ok = s["Happy/video22_aligned/frame_det_00_000002.bmp"]
    assert (ok.flag, ok.cur_emotion, ok.subject, ok.cur_stress) == (None, "Happy", "video22", 0.0)
    assert sha(env / "data" / ok.crop_path) == sha(root / ok.source_path)
    assert len(crop_files(env)) == 6
    again = import_path("openface", root, dataset="of", options={"min_confidence": 0.4})
    assert (again.added, again.existing, again.flagged) == (0, 6, 0)


def test_features_are_stored_per_sample_and_match_the_csv(env, read):
    root = env / "of"
    anger, happy = _two_clips(root)
    import_path("openface", root, dataset="of")
    with read() as s:
        names = {k.kind: k.names for k in s.scalars(select(FeatureKind))}
        feats = list(s.scalars(select(Feature)))
    assert set(names) == KINDS
    assert names["openface_au"] == [f"AU{a:02d}_r" for a in (1, 2, 4, 6, 12)] + \
        [f"AU{a:02d}_c" for a in (1, 2, 4, 6, 12)]
    assert names["openface_gaze"] == ["gaze_0_x", "gaze_0_y", "gaze_0_z", "gaze_angle_x", "gaze_angle_y"]
    assert names["openface_pose"] == ["pose_Tx", "pose_Ty", "pose_Tz", "pose_Rx", "pose_Ry", "pose_Rz"]
    assert names["openface_landmarks2d"] == [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
    assert all(all(GROUPS[k](c) for c in cols) for k, cols in names.items())
    assert len(feats) == 6 * 4
    by_id = {x.id: x for x in samples(read, "of").values()}
    for f in feats:
        smp = by_id[f.sample_id]
        row = _csv_rows(anger if smp.subject == "clip" else happy)[smp.frame_index]
        got = np.frombuffer(f.values, dtype=np.float32)
        want = np.array([row[c] for c in names[f.kind]], dtype=np.float32)
        assert got.shape == (len(names[f.kind]),) and np.array_equal(got, want)


def test_missing_aligned_image_is_an_error_with_the_csv_line(env, read):
    root = env / "of"
    _two_clips(root)
    (root / "Happy" / "video22_aligned" / "frame_det_00_000002.bmp").unlink()
    with pytest.raises(ImportFailed) as exc:
        import_path("openface", root, dataset="of")
    [err] = exc.value.report.errors
    assert (err.file, err.line, err.field) == ("Happy/video22.csv", 3, "image_path")
    assert "frame_det_00_000002.bmp" in err.reason and "does not exist" in err.reason
    assert counts(read) == (0, 0) and crop_files(env) == []
    with read() as s:
        assert s.scalars(select(Feature)).first() is None


def test_csv_without_success_column_is_a_file_error(env, read):
    root = env / "of"
    _, happy = _two_clips(root)
    lines = happy.read_text().splitlines()
    cells = [c.split(",") for c in lines]
    drop = cells[0].index(" success")
    happy.write_text("\n".join(",".join(c[:drop] + c[drop + 1:]) for c in cells) + "\n")
    with pytest.raises(ImportFailed) as exc:
        import_path("openface", root, dataset="of")
    [err] = exc.value.report.errors
    assert (err.file, err.line) == ("Happy/video22.csv", None) and "missing column(s) success" in err.reason
    report = import_path("openface", root, dataset="of", skip_invalid=True)
    assert report.added == 3 and {x.subject for x in samples(read, "of").values()} == {"clip"}


def test_bad_number_in_a_frame_row(env):
    root = env / "of"
    anger, _ = _two_clips(root)
    lines = anger.read_text().splitlines()
    cells = lines[1].split(", ")
    cells[3] = "high"  # confidence
    lines[1] = ", ".join(cells)
    anger.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFailed) as exc:
        import_path("openface", root, dataset="of")
    [err] = exc.value.report.errors
    assert (err.file, err.line, err.field) == ("Anger/clip.csv", 2, "confidence")


def test_single_csv_outside_an_emotion_folder_has_no_emotion(env, read):
    csv_path = write_openface(env / "of", "misc", "solo", frames=2)
    report = import_path("openface", csv_path, dataset="of")
    assert report.added == 2
    assert {x.cur_emotion for x in samples(read, "of").values()} == {None}
    with pytest.raises(ImportFailed, match="no OpenFace CSV"):
        import_path("openface", env / "of" / "misc" / "solo_aligned", dataset="of")
