"""CMU-MOSEI-style importer on a generated label CSV and face videos: segments, distributions, sentiment."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.ingest import ImportFailed, import_path
from core.label_schema import mosei_schema
from core.store.datasets import dataset_schema
from core.store.models import Annotation, Dataset, Sample
from tests.ingest.clips import face_clip
from tests.ingest.common import counts, crop_files

HEADER = "video_id,start,end,sentiment,happy,sad,anger,surprise,disgust,fear"
ROWS = ["-aB3dE_fG9h,0.5,1.5,1.5,2,0,1,0,0,1",  # a distribution: intensities / sum
        "-aB3dE_fG9h,-0.2,0.3,-3,0,0,0,0,0,0",  # all zero: no emotion; a negative start clamps to 0
        "-aB3dE_fG9h,3,4.2,0.333,0,0.333,0,0,0.667,0",
        "12345,1,2,,3,0,0,0,0,0",  # numeric id stays a string; no sentiment: no target
        "notHere,0,1,0,1,0,0,0,0,0"]  # its video is absent: skipped, counted


def _write(env, rows=ROWS, header=HEADER, videos=("-aB3dE_fG9h", "12345")):
    root = env / "mosei"
    root.mkdir(exist_ok=True)
    for i, vid in enumerate(videos):
        if not (root / f"{vid}.mp4").exists():
            face_clip(root / f"{vid}.mp4", seconds=5.0, seed=i)
    path = root / "labels.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _stored(read):
    with read() as s:
        return s.execute(select(Sample.subject, Sample.timestamp, Sample.cur_distribution, Sample.cur_targets,
                                Sample.source_path).order_by(Sample.id)).all()


def test_segments_give_distributions_sentiment_and_frames_inside_each_segment(env, read):
    path = _write(env)
    report = import_path("mosei", path, dataset="mo", options={"fps": 2})
    assert not report.errors and report.skipped == {"video not present": 1}
    rows = _stored(read)
    first = [r for r in rows if r.subject == "-aB3dE_fG9h" and 0.5 - 1e-6 <= r.timestamp <= 1.5 + 1e-6]
    assert len(first) == 3  # 0.5, 1.0, 1.5 s at 2 per second
    assert first[0].cur_distribution == pytest.approx({"Happy": 0.5, "Anger": 0.25, "Fear": 0.25})
    assert first[0].cur_targets == {"sentiment": 1.5}
    zero = [r for r in rows if r.subject == "-aB3dE_fG9h" and r.timestamp < 0.35]
    assert zero and all(r.cur_distribution == {} and r.cur_targets == {"sentiment": -3.0} for r in zero)
    third = [r for r in rows if r.subject == "-aB3dE_fG9h" and r.timestamp >= 3 - 1e-6]
    assert len(third) == 3 and all(3 - 1e-6 <= r.timestamp <= 4.2 + 1e-6 for r in third)
    assert third[0].cur_distribution == pytest.approx({"Sad": 0.333, "Disgust": 0.667}, abs=1e-3)
    numeric = [r for r in rows if r.subject == "12345"]
    assert len(numeric) == 3 and numeric[0].cur_distribution == {"Happy": 1.0} and not numeric[0].cur_targets
    assert {r.source_path for r in rows} == {"-aB3dE_fG9h.mp4", "12345.mp4"}
    with read() as s:
        assert dataset_schema(s.scalar(select(Dataset).where(Dataset.name == "mo"))) == mosei_schema()
        raw = s.scalars(select(Annotation.raw).order_by(Annotation.id)).first()
    assert raw["intensities"] == {"Happy": 2.0, "Sad": 0.0, "Anger": 1.0, "Surprise": 0.0, "Disgust": 0.0,
                                  "Fear": 1.0}
    again = import_path("mosei", path, dataset="mo", options={"fps": 2})
    assert again.added == 0 and again.existing == len(rows) and again.relabelled == 0


def _refused(env, read, path, must):
    before = counts(read), crop_files(env)
    with pytest.raises(ImportFailed) as info:
        import_path("mosei", path, dataset="mo", options={"fps": 1})
    got = {(e.file, e.line, e.field) for e in info.value.report.errors}
    for want in must:
        assert want in got, [str(e) for e in info.value.report.errors]
    assert (counts(read), crop_files(env)) == before
    return info.value.report.errors


@pytest.mark.parametrize("row, field, reason", [
    ("-aB3dE_fG9h,0,1,0,3.5,0,0,0,0,0", "happy", "outside [0, 3]"),
    ("-aB3dE_fG9h,0,1,0,0,-1,0,0,0,0", "sad", "outside [0, 3]"),
    ("-aB3dE_fG9h,0,1,0,0,0,nan,0,0,0", "anger", "not a finite number"),
    ("-aB3dE_fG9h,0,1,4,0,0,0,0,0,0", "sentiment", "outside [-3, 3]"),
    ("-aB3dE_fG9h,2,1,0,0,0,0,0,0,0", "end", "not after start"),
    ("-aB3dE_fG9h,0,x,0,0,0,0,0,0,0", "end", "not a number"),
    ("a/b,0,1,0,0,0,0,0,0,0", "video_id", "path separator"),
    ("-aB3dE_fG9h,0.5,1.5,0,0,0,0,0,0,0", "start", "already on line 2"),  # the same segment twice
    ("-aB3dE_fG9h,30,31,0,0,0,0,0,0,0", "start", "after the last frame"),
])
def test_malformed_rows_are_located_errors_and_store_nothing(env, read, row, field, reason):
    path = _write(env, [ROWS[0], row], videos=("-aB3dE_fG9h",))
    errors = _refused(env, read, path, must=[("labels.csv", 3, field)])
    assert reason in "\n".join(map(str, errors))


def test_column_names_in_any_case(env, read):
    path = _write(env, [ROWS[3]], header=HEADER.title().replace("_Id", "_id"), videos=("12345",))
    report = import_path("mosei", path, dataset="mo", options={"fps": 1})
    assert report.added == 2 and _stored(read)[0].cur_distribution == {"Happy": 1.0}


def test_wrong_emotion_column_is_a_file_error(env, read):
    path = _write(env, ["-aB3dE_fG9h,0,1,0,1,0,0,0,0,0"], header=HEADER.replace("fear", "contempt"))
    errors = _refused(env, read, path, must=[("labels.csv", None, None)])
    assert "missing column(s) fear" in str(errors[0])


def test_skip_invalid_and_no_video_at_all(env, read):
    path = _write(env, [ROWS[0], "-aB3dE_fG9h,2,3,0,9,0,0,0,0,0"], videos=("-aB3dE_fG9h",))
    report = import_path("mosei", path, dataset="mo", skip_invalid=True, options={"fps": 1})
    assert report.invalid_rows == 1 and report.added == 2  # 0.5 s and 1.5 s of the good segment
    lonely = _write(env, ["nobody,0,1,0,1,0,0,0,0,0"], videos=())
    errors = _refused(env, read, lonely, must=[("labels.csv", None, "video_id")])
    assert "none of the 1 videos" in str(errors[-1])


MTURK_HEADER = ("HITId,Input.VIDEO_ID,Input.CLIP,WorkerId,Answer.anger,Answer.disgust,Answer.fear,Answer.happiness,"
                "Answer.sadness,Answer.sentiment,Answer.surprise")


def _mturk(env, rows):
    root = env / "raw"
    face_clip(root / "Videos" / "Full" / "-v_1.mp4", seconds=4.0, seed=5)
    face_clip(root / "Videos" / "Segmented" / "12345_7.mp4", seconds=1.0, seed=6)
    transcript = root / "Transcript" / "Segmented" / "Combined" / "-v_1.txt"
    transcript.parent.mkdir(parents=True)
    transcript.write_text("-v_1___2___1.0___2.0___so ______ yes\n-v_1___3___-0.5___0.4___neg start\n")
    path = root / "Labels" / "batch.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([MTURK_HEADER, *rows]) + "\n")
    return root, path


def test_mturk_raters_are_averaged_per_clip(env, read):
    root, _ = _mturk(env, ["h,-v_1,2,W1,0,0,0,3,0,2,0", "h,-v_1,2,W2,0,0,0,1,2,1,0",  # timed by the transcript
                              "h,12345,7,W1,1,0,0,0,0,-1,0",  # no transcript line: its own clip file
                              "h,gone,1,W1,1,0,0,0,0,0,0"])  # no video: skipped
    report = import_path("mosei", root, dataset="mt", options={"fps": 2})
    assert not report.errors and report.skipped == {"video not present": 1}
    rows = _stored(read)
    timed = [r for r in rows if r.subject == "-v_1"]
    assert [round(r.timestamp, 1) for r in timed] == [1.0, 1.5, 2.0]  # inside 1.0-2.0 s of the full video
    assert timed[0].cur_distribution == pytest.approx({"Happy": 2 / 3, "Sad": 1 / 3})
    assert timed[0].cur_targets == {"sentiment": 1.5} and timed[0].source_path.endswith("-v_1.mp4")
    whole = [r for r in rows if r.subject == "12345"]
    assert len(whole) == 2 and whole[0].cur_distribution == {"Anger": 1.0}  # 0 and 0.5 s of the 1 s clip
    with read() as s:
        raw = s.scalars(select(Annotation.raw).order_by(Annotation.id)).first()
    assert raw["raters"] == 2 and raw["clip"] == "2"


def test_mturk_duplicate_rater_and_bad_answers_are_located(env, read):
    root, _ = _mturk(env, ["h,-v_1,2,W1,0,0,0,3,0,2,0", "h,-v_1,2,W1,0,0,0,1,0,2,0",
                           "h,-v_1,2,W2,0,0,0,4,0,2,0", "h,-v_1,2,W3,0,0,0,0,0,-3.5,0"])
    rel = "Labels/batch.csv"
    text = "\n".join(map(str, _refused(env, read, root, must=[(rel, 3, "WorkerId"), (rel, 4, "Answer.happiness"),
                                                               (rel, 5, "Answer.sentiment")])))
    assert "already on line 2" in text and "outside [0, 3]" in text
