"""FER2013 pixels CSV import: FER-7 codes to AffectNet-8 names, Usage splits, row errors, 48x48 crops."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.ingest import ImportFailed, import_path
from core.taxonomy import FER7
from tests.ingest.common import annotations, counts, crop_files, samples


def _pixels(seed: int, n: int = 48 * 48, high: int = 256) -> str:
    return " ".join(str(v) for v in np.random.default_rng(seed).integers(0, high, n))


def _fer(path, rows: list[tuple[str, str, str]], header: str = "emotion,pixels,Usage"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n")
    return path


USAGES = ["Training", "PublicTest", "PrivateTest"]


def test_codes_usage_and_crops(env, read):
    rows = [(str(code), _pixels(code), USAGES[code % 3]) for code in range(7)]
    path = _fer(env / "fer" / "fer2013.csv", rows)
    report = import_path("fer2013", path, dataset="fer")
    assert (report.added, report.rows, report.errors) == (7, 7, [])
    s = samples(read, "fer")
    want = ["Anger", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]
    for code in range(7):
        smp = s[f"fer2013.csv:{code + 2}"]
        assert smp.cur_emotion == want[code], FER7[code]
        assert smp.split == ["train", "val", "test"][code % 3]
        crop = env / "data" / smp.crop_path
        assert crop.suffix == ".png" and crop.is_relative_to(env / "data" / "crops")
        with Image.open(crop) as im:
            assert im.size == (48, 48) and im.mode == "L"
            got = np.asarray(im)
        assert got.ravel().tolist() == [int(v) for v in rows[code][1].split()]
        assert annotations(read, smp.id)[0].raw == {"emotion": code}
    assert s["fer2013.csv:2"].cur_stress == 1.0 and s["fer2013.csv:8"].cur_stress == 0.0  # derived
    assert len(crop_files(env)) == 7


def test_without_usage_column_there_is_no_split(env, read):
    path = _fer(env / "f.csv", [("3", _pixels(1))], header="emotion,pixels")
    import_path("fer2013", path, dataset="fer")
    [smp] = samples(read, "fer").values()
    assert (smp.cur_emotion, smp.split) == ("Happy", None)


def test_bad_rows_are_listed_with_line_and_field(env, read):
    rows = [("0", _pixels(1), "Training"),          # 2 good
            ("1", _pixels(2, n=48 * 47), "Training"),  # 3 wrong pixel count
            ("2", _pixels(3)[:-3] + " 300", "Training"),  # 4 a value > 255
            ("7", _pixels(4), "Training"),          # 5 code out of range
            ("x", _pixels(5), "Training"),          # 6 not a code
            ("3", _pixels(6), "Validation"),        # 7 unknown Usage
            ("4", "1 2 three " + _pixels(7, n=2301), "Training"),  # 8 not numbers
            ("5", "", "Training"),                  # 9 no pixels at all
            ("6", "-1 " + _pixels(8, n=2303), "PublicTest"),  # 10 negative value
            ("6", "9" * 25 + " " + _pixels(9, n=2303), "Training")]  # 11 overflows int64
    path = _fer(env / "fer" / "fer2013.csv", rows)
    with pytest.raises(ImportFailed) as exc:
        import_path("fer2013", path, dataset="fer")
    errs = exc.value.report.errors
    assert {(e.line, e.field) for e in errs} == {
        (3, "pixels"), (4, "pixels"), (5, "emotion"), (6, "emotion"), (7, "Usage"), (8, "pixels"),
        (9, "pixels"), (10, "pixels"), (11, "pixels")}
    assert all(e.file == "fer2013.csv" for e in errs)
    reasons = {e.line: e.reason for e in errs}
    assert "2256 values" in reasons[3] and "0..255" in reasons[4] and "0..6" in reasons[5]
    assert "'Validation'" in reasons[7] and "whole numbers" in reasons[8] and "0..255" in reasons[10]
    assert "0 values" in reasons[9] and "whole numbers" in reasons[11]
    assert counts(read) == (0, 0) and crop_files(env) == []
    report = import_path("fer2013", path, dataset="fer", skip_invalid=True)
    assert report.added == 1 and len(report.errors) == 9
    assert [x.cur_emotion for x in samples(read, "fer").values()] == ["Anger"]
    assert len(crop_files(env)) == 1


def test_missing_columns_and_reimport(env, read):
    bad = _fer(env / "bad.csv", [("0", "Training")], header="emotion,Usage")
    with pytest.raises(ImportFailed, match="missing column"):
        import_path("fer2013", bad, dataset="fer")
    path = _fer(env / "fer.csv", [("0", _pixels(1), "Training"), ("6", _pixels(2), "PrivateTest")])
    import_path("fer2013", path, dataset="fer")
    again = import_path("fer2013", path, dataset="fer")
    assert (again.added, again.existing, again.relabelled) == (0, 2, 0) and counts(read)[0] == 2
