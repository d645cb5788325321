"""AffectNet-style CSV import: labels, scales, all-or-nothing validation, skip mode, re-imports."""
from __future__ import annotations

import csv
import math
import os

import cv2
import numpy as np
import pytest

from core.ingest import ImportFailed, import_path
from core.store.labels import edit_label
from core.taxonomy import AFFECTNET8
from tests.helpers import write_affectnet_csv, write_image
from tests.ingest.common import annotations, counts, crop_files, samples, sha, write_csv


def test_valid_csv_imports_every_row_with_imported_labels(env, read):
    path = write_affectnet_csv(env / "in", n=16)
    seen = []
    report = import_path("csv", path, dataset="d", progress=lambda done, total: seen.append(done))
    assert (report.rows, report.added, report.existing, report.errors) == (16, 16, 0, [])
    assert seen[-1] == 16
    by_path = samples(read)
    assert len(by_path) == 16
    for row in csv.DictReader(path.open()):
        smp = by_path[row["image_path"]]
        i = int(row["emotion"])
        assert smp.cur_emotion == AFFECTNET8[i] and smp.subject == row["subject"]
        for f in ("valence", "arousal", "stress"):
            assert getattr(smp, f"cur_{f}") == pytest.approx(float(row[f]), abs=1e-12)
        assert smp.cur_source == "imported"
        assert smp.cur_sources == {f: "imported" for f in ("emotion", "valence", "arousal", "stress")}
        crop = env / "data" / smp.crop_path
        assert smp.crop_path.startswith("crops/") and crop.is_file()
        assert sha(crop) == smp.crop_sha256 == sha(env / "in" / row["image_path"])
    assert counts(read) == (16, 16)  # stress in the file: nothing derived


def test_stress_is_derived_only_where_the_file_has_none(env, read):
    rows = ["imgs/0.png,Happy,0.5,0.2", "imgs/1.png,Anger,-0.5,0.7", "imgs/2.png,Surprise,0.1,0.9",
            "imgs/3.png,Sad,-0.2,-0.1,0.25"]
    write_csv(env / "in", rows[:3], images=4)
    report = import_path("csv", env / "in" / "labels.csv", dataset="d")
    assert report.added == 3
    s = samples(read)
    assert (s["imgs/0.png"].cur_stress, s["imgs/0.png"].cur_sources["stress"]) == (0.0, "derived")
    assert (s["imgs/1.png"].cur_stress, s["imgs/1.png"].cur_sources["stress"]) == (1.0, "derived")
    assert s["imgs/2.png"].cur_stress is None and "stress" not in s["imgs/2.png"].cur_sources
    assert s["imgs/0.png"].cur_sources["emotion"] == "imported"
    assert [a.source for a in annotations(read, s["imgs/0.png"].id)] == ["imported", "derived"]
    assert [a.source for a in annotations(read, s["imgs/2.png"].id)] == ["imported"]
    write_csv(env / "in2", ["imgs/3.png,Sad,-0.2,-0.1,0.25"], "image_path,emotion,valence,arousal,stress",
              images=4)
    import_path("csv", env / "in2" / "labels.csv", dataset="d2")
    smp = samples(read, "d2")["imgs/3.png"]
    assert (smp.cur_stress, smp.cur_sources["stress"]) == (0.25, "imported")


def test_emotion_as_code_name_and_synonym(env, read):
    cells = ["0", "6", "angry", "happiness", "Sad", " contempt ", "SURPRISE", "fearful"]
    want = ["Neutral", "Anger", "Anger", "Happy", "Sad", "Contempt", "Surprise", "Fear"]
    write_csv(env / "in", [f"imgs/{i}.png,{c},0,0" for i, c in enumerate(cells)], images=8)
    import_path("csv", env / "in" / "labels.csv", dataset="d")
    s = samples(read)
    assert [s[f"imgs/{i}.png"].cur_emotion for i in range(8)] == want
    raw = annotations(read, s["imgs/2.png"].id)[0].raw
    assert raw["emotion"] == "angry"


def test_va_scale_is_normalised_and_raw_values_kept(env, read):
    write_csv(env / "in", ["imgs/0.png,Happy,5,1", "imgs/1.png,Sad,9,7", "imgs/2.png,Fear,1,9"], images=3)
    import_path("csv", env / "in" / "labels.csv", dataset="d", options={"va_scale": "1..9"})
    s = samples(read)
    got = [(s[f"imgs/{i}.png"].cur_valence, s[f"imgs/{i}.png"].cur_arousal) for i in range(3)]
    assert got == [(0.0, -1.0), (1.0, 0.5), (-1.0, 1.0)]
    raw = annotations(read, s["imgs/1.png"].id)[0].raw
    assert raw["valence"] == 9 and raw["arousal"] == 7 and raw["scale"]["va"] == "1..9"
    write_csv(env / "bad", ["imgs/0.png,Happy,0,5", "imgs/1.png,Happy,5,9.5"], images=2)
    with pytest.raises(ImportFailed) as exc:  # 0 and 9.5 are outside 1..9
        import_path("csv", env / "bad" / "labels.csv", dataset="e", options={"va_scale": "1..9"})
    assert {(e.line, e.field) for e in exc.value.report.errors} == {(2, "valence"), (3, "arousal")}


def _bad_csv(root):
    """3 good rows then 11 bad ones; returns (csv path, expected {(line, field)} of the bad rows)."""
    for i in range(5):
        write_image(root / "imgs" / f"{i}.png", 2000 + i)
    write_image(root.parent / "outside" / "secret.png", 2100)
    os.symlink(root.parent / "outside" / "secret.png", root / "imgs" / "link.png")
    (root / "imgs" / "empty.jpg").write_bytes(b"")
    ok, buf = cv2.imencode(".png", np.random.default_rng(5).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    (root / "imgs" / "trunc.png").write_bytes(buf.tobytes()[: len(buf) // 2])
    (root / "imgs" / "text.jpg").write_text("this is not a picture\n")
    write_image(root / "imgs" / "valid_for_nan.png", 2200)
    write_image(root / "imgs" / "valid_for_range.png", 2201)
    write_image(root / "imgs" / "valid_for_bored.png", 2202)
    rows = ["imgs/0.png,Happy,0.1,0.2,s1", "imgs/1.png,Sad,-0.3,0.4,s2", "imgs/2.png,1,0.5,0.5,s3",
            "imgs/valid_for_nan.png,Happy,NaN,0.2,s1",       # line 5
            "imgs/valid_for_range.png,Happy,0.1,1.5,s1",     # 6
            "imgs/valid_for_bored.png,bored,0.1,0.2,s1",     # 7
            "imgs/missing.png,Happy,0.1,0.2,s1",             # 8
            "../outside/secret.png,Happy,0.1,0.2,s1",        # 9
            f"{root / 'imgs' / '3.png'},Happy,0.1,0.2,s1",   # 10 absolute
            "imgs/link.png,Happy,0.1,0.2,s1",                # 11
            "imgs/empty.jpg,Happy,0.1,0.2,s1",               # 12
            "imgs/trunc.png,Happy,0.1,0.2,s1",               # 13
            "imgs/text.jpg,Happy,0.1,0.2,s1",                # 14
            "imgs/4.png,Happy,0.1,0.2,s1,extra"]             # 15 too many cells
    expected = {(5, "valence"), (6, "arousal"), (7, "emotion"), (15, None)}
    expected |= {(line, "image_path") for line in range(8, 15)}
    return write_csv(root, rows, "image_path,emotion,valence,arousal,subject"), expected


def test_bad_rows_refuse_the_whole_import_and_list_every_one(env, read):
    path, expected = _bad_csv(env / "in")
    with pytest.raises(ImportFailed) as exc:
        import_path("csv", path, dataset="d")
    errors = exc.value.report.errors
    assert {(e.line, e.field) for e in errors} == expected and len(errors) == len(expected)
    assert all(e.file == "labels.csv" for e in errors)
    msg = str(exc.value)
    assert "nothing was imported" in msg and "11 invalid row(s)" in msg
    for line, _ in expected:
        assert f"labels.csv:{line}:" in msg
    reasons = {e.line: e.reason for e in errors}
    assert "NaN" in reasons[5] and "outside" in reasons[6] and "bored" in reasons[7]
    assert "does not exist" in reasons[8] and "'..'" in reasons[9] and "absolute" in reasons[10]
    assert "outside the import folder" in reasons[11] and "0 bytes" in reasons[12]
    assert "truncated" in reasons[13] and "not an image" in reasons[14] and "cells" in reasons[15]
    assert counts(read) == (0, 0)
    assert crop_files(env) == []
    assert samples(read) == {}


def test_skip_invalid_imports_the_good_rows_and_reports_the_rest(env, read):
    path, expected = _bad_csv(env / "in")
    report = import_path("csv", path, dataset="d", skip_invalid=True)
    assert report.added == 3 and {(e.line, e.field) for e in report.errors} == expected
    d = report.to_dict()
    assert d["invalid"] == 11 and d["added"] == 3 and len(d["errors"]) == 11
    s = samples(read)
    assert sorted(s) == ["imgs/0.png", "imgs/1.png", "imgs/2.png"]
    assert s["imgs/2.png"].cur_emotion == "Happy" and s["imgs/1.png"].subject == "s2"
    # only the stored samples' crops stay on disk
    assert sorted(p.name.split(".")[0] for p in crop_files(env)) == sorted(x.crop_sha256 for x in s.values())


def test_reimport_is_idempotent(env, read):
    path = write_affectnet_csv(env / "in", n=12)
    import_path("csv", path, dataset="d")
    before, files = counts(read), crop_files(env)
    report = import_path("csv", path, dataset="d")
    assert (report.added, report.existing, report.relabelled) == (0, 12, 0)
    assert counts(read) == before == (12, 12) and crop_files(env) == files


def test_changed_label_appends_an_annotation_that_supersedes_the_old(env, read):
    path = write_affectnet_csv(env / "in", n=6)
    import_path("csv", path, dataset="d")
    sid = samples(read)["imgs/0_1.png"].id
    old = annotations(read, sid)
    path.write_text(path.read_text().replace("imgs/0_1.png,1,", "imgs/0_1.png,6,"))
    report = import_path("csv", path, dataset="d")
    assert (report.added, report.existing, report.relabelled) == (0, 6, 1)
    anns = annotations(read, sid)
    assert len(anns) == len(old) + 1 and anns[0].emotion == "Happy"
    assert anns[-1].source == "imported" and anns[-1].emotion == "Anger"
    assert anns[-1].supersedes_id == old[-1].id
    assert samples(read)["imgs/0_1.png"].cur_emotion == "Anger"
    assert counts(read) == (6, 7)


def test_relabelled_emotion_rederives_stress(env, read):
    write_csv(env / "in", ["imgs/0.png,Happy,0.5,0.2"], images=1)
    import_path("csv", env / "in" / "labels.csv", dataset="d")
    assert samples(read)["imgs/0.png"].cur_stress == 0.0
    write_csv(env / "in", ["imgs/0.png,Anger,0.5,0.2"])
    assert import_path("csv", env / "in" / "labels.csv", dataset="d").relabelled == 1
    smp = samples(read)["imgs/0.png"]
    assert (smp.cur_emotion, smp.cur_stress, smp.cur_sources["stress"]) == ("Anger", 1.0, "derived")
    write_csv(env / "in", ["imgs/0.png,Surprise,0.5,0.2"])  # no stress rule: no stale Anger stress
    import_path("csv", env / "in" / "labels.csv", dataset="d")
    smp = samples(read)["imgs/0.png"]
    assert (smp.cur_emotion, smp.cur_stress) == ("Surprise", None) and "stress" not in smp.cur_sources
    assert [a.source for a in annotations(read, smp.id)].count("derived") == 3  # appended, none deleted


@pytest.mark.parametrize("delimiter,bom,crlf", [(",", True, False), (";", False, False),
                                               ("\t", False, False), (";", True, True), (",", False, True)])
def test_bom_delimiters_and_line_endings(env, read, delimiter, bom, crlf):
    path = write_csv(env / "in", ["imgs/0.png,Happy,0.25,-0.5,s9", "imgs/1.png,2,-0.75,0.5,s8"],
                     "image_path,emotion,valence,arousal,subject", images=2, delimiter=delimiter, bom=bom)
    if crlf:
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbfimage_path") == bom
    report = import_path("csv", env / "in" / "labels.csv", dataset="d")
    assert report.added == 2 and report.errors == []
    s = samples(read)
    assert (s["imgs/0.png"].cur_emotion, s["imgs/0.png"].cur_valence, s["imgs/0.png"].subject) == \
        ("Happy", 0.25, "s9")
    assert (s["imgs/1.png"].cur_emotion, s["imgs/1.png"].cur_arousal) == ("Sad", 0.5)


@pytest.mark.parametrize("header,words", [
    ("image_path,emotion,valence", ["missing column(s) arousal"]),
    ("path,emotion,valence,arousal", ["missing column(s) image_path"]),
    ("image_path,emotion,valence,arousal,valence", ["duplicated column(s) valence"]),
    ("image_path,emotion,emotion,valence,arousal,arousal", ["duplicated column(s) arousal, emotion"]),
])
def test_bad_header_is_a_whole_file_error(env, read, header, words):
    n = header.count(",") + 1
    write_csv(env / "in", ["imgs/0.png" + ",0" * (n - 1)], header, images=1)
    with pytest.raises(ImportFailed) as exc:
        import_path("csv", env / "in" / "labels.csv", dataset="d")
    [err] = exc.value.report.errors
    assert err.line is None and err.file == "labels.csv"
    assert all(w in err.reason for w in words)
    assert counts(read) == (0, 0)


def test_empty_file_and_folder_are_errors(env):
    (env / "empty.csv").write_text("")
    with pytest.raises(ImportFailed, match="empty"):
        import_path("csv", env / "empty.csv", dataset="d")
    with pytest.raises(ImportFailed, match="got a folder"):
        import_path("csv", env, dataset="d")
    with pytest.raises(FileNotFoundError):
        import_path("csv", env / "nope.csv", dataset="d")


def test_human_edit_survives_reimport_of_a_changed_label(env, write, read):
    write_csv(env / "in", ["imgs/0.png,Happy,0.5,0.2", "imgs/1.png,Sad,-0.5,-0.2"], images=2)
    import_path("csv", env / "in" / "labels.csv", dataset="d")
    smp = samples(read)["imgs/0.png"]
    with write() as s, s.begin():
        edit_label(s, smp.id, base_annotation_id=smp.cur_annotation_id, annotator="ana", emotion="Fear")
    write_csv(env / "in", ["imgs/0.png,Surprise,0.1,0.2", "imgs/1.png,Sad,-0.5,-0.2"])
    report = import_path("csv", env / "in" / "labels.csv", dataset="d")
    assert report.relabelled == 1
    now = samples(read)["imgs/0.png"]
    assert (now.cur_emotion, now.cur_source, now.cur_sources["emotion"]) == ("Fear", "human", "human")
    assert math.isclose(now.cur_valence, 0.1)  # fields the human did not set follow the new import
    imported = [a for a in annotations(read, smp.id) if a.source == "imported"]
    assert [a.emotion for a in imported] == ["Happy", "Surprise"]


def test_taxonomy_mismatch_on_existing_dataset_is_an_error(env, read):
    from core.taxonomy import get_taxonomy

    csv = write_affectnet_csv(env / "in", 8)
    import_path("csv", csv, dataset="d")
    with pytest.raises(ValueError, match="uses taxonomy affectnet8"):
        import_path("csv", csv, dataset="d", taxonomy=get_taxonomy("fer7"))
    assert import_path("csv", csv, dataset="d", taxonomy=get_taxonomy()).existing == 8


def test_same_image_twice_with_different_labels_is_an_error(env, read):
    root = env / "dup"
    write_image(root / "a.png", 1)
    (root / "l.csv").write_text("image_path,emotion,valence,arousal\na.png,Happy,0,0\na.png,Sad,0,0\n"
                                "a.png,Happy,0,0\n")
    with pytest.raises(ImportFailed, match="same image content as a.png but a different label"):
        import_path("csv", root / "l.csv", dataset="d")
