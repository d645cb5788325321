"""Folder-of-class-folders import: synonyms, unknown folders, corrupt images, skip mode."""
from __future__ import annotations

import pytest

from core.ingest import ImportFailed, import_path
from tests.helpers import write_image
from tests.ingest.common import annotations, counts, crop_files, samples, sha


def _tree(root, layout: dict[str, int]) -> None:
    seed = 0
    for folder, n in layout.items():
        for i in range(n):
            seed += 1
            write_image(root / folder / f"img{i}.png", 500 + seed)


def test_class_folders_with_synonym_names(env, read):
    root = env / "faces"
    _tree(root, {"happiness": 2, "angry": 2, "Sad": 1, "neutral": 1})
    (root / "Sad" / "notes.txt").write_text("not an image, ignored")
    write_image(root / "Sad" / ".hidden.png", 99)  # hidden files are ignored
    report = import_path("folder", root, dataset="d")
    assert (report.added, report.rows, report.errors) == (6, 6, [])
    s = samples(read)
    got = {path: x.cur_emotion for path, x in s.items()}
    assert got == {"happiness/img0.png": "Happy", "happiness/img1.png": "Happy",
                   "angry/img0.png": "Anger", "angry/img1.png": "Anger",
                   "Sad/img0.png": "Sad", "neutral/img0.png": "Neutral"}
    smp = s["angry/img1.png"]
    assert sha(env / "data" / smp.crop_path) == sha(root / "angry" / "img1.png") == smp.crop_sha256
    anns = annotations(read, smp.id)
    assert anns[0].raw == {"emotion": "angry"} and anns[0].source == "imported"
    assert anns[1].source == "derived" and anns[1].stress == 1.0  # Anger -> stress 1
    assert smp.cur_stress == 1.0 and smp.cur_sources == {"emotion": "imported", "stress": "derived"}


def test_nested_images_take_the_class_of_their_top_folder(env, read):
    write_image(env / "faces" / "Fear" / "subject1" / "a.png", 1)
    import_path("folder", env / "faces", dataset="d")
    assert samples(read)["Fear/subject1/a.png"].cur_emotion == "Fear"


def test_unknown_folder_name_is_an_error_naming_it(env, read):
    root = env / "faces"
    _tree(root, {"Happy": 2, "bored": 1})
    with pytest.raises(ImportFailed) as exc:
        import_path("folder", root, dataset="d")
    [err] = exc.value.report.errors
    assert err.file == "bored/" and err.field == "emotion" and "'bored'" in err.reason
    assert "bored/" in str(exc.value)
    assert counts(read) == (0, 0) and crop_files(env) == []


def test_corrupt_image_refuses_the_whole_folder(env, read):
    root = env / "faces"
    _tree(root, {"Happy": 3, "Sad": 2})
    (root / "Sad" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "Happy" / "zero.png").write_bytes(b"")
    with pytest.raises(ImportFailed) as exc:
        import_path("folder", root, dataset="d")
    errs = {e.file: e for e in exc.value.report.errors}
    assert set(errs) == {"Sad/broken.jpg", "Happy/zero.png"}
    assert all(e.field == "image_path" and e.line is None for e in errs.values())
    assert "0 bytes" in errs["Happy/zero.png"].reason
    assert counts(read) == (0, 0) and crop_files(env) == []


def test_skip_mode_imports_the_rest(env, read):
    root = env / "faces"
    _tree(root, {"Happy": 3, "Sad": 2, "bored": 2})
    (root / "Sad" / "broken.jpg").write_bytes(b"garbage")
    report = import_path("folder", root, dataset="d", skip_invalid=True)
    assert report.added == 5 and len(report.errors) == 2
    assert {e.file for e in report.errors} == {"bored/", "Sad/broken.jpg"}
    s = samples(read)
    assert sorted(s) == ["Happy/img0.png", "Happy/img1.png", "Happy/img2.png", "Sad/img0.png",
                         "Sad/img1.png"]
    assert len(crop_files(env)) == 5
    again = import_path("folder", root, dataset="d", skip_invalid=True)
    assert (again.added, again.existing, again.relabelled) == (0, 5, 0)


def test_duplicate_images_across_folders_are_one_sample(env, read):
    write_image(env / "faces" / "Happy" / "a.png", 7)
    write_image(env / "faces" / "Happy" / "copy.png", 7)
    report = import_path("folder", env / "faces", dataset="d")
    assert report.rows == 2 and report.added == 1 and counts(read)[0] == 1


def test_not_a_folder_or_no_class_folders(env):
    (env / "x.png").write_bytes(b"")
    with pytest.raises(ImportFailed, match="expected a folder"):
        import_path("folder", env / "x.png", dataset="d")
    (env / "empty").mkdir()
    with pytest.raises(ImportFailed, match="no class sub-folders"):
        import_path("folder", env / "empty", dataset="d")
