"""Export → re-import round trips (CSV and Parquet) and spreadsheet-formula neutralisation."""
from __future__ import annotations

import csv

import pandas as pd
import pytest

from core.export import export_dataset, safe_cell
from core.ingest import import_path
from core.store.datasets import require_dataset
from core.store.labels import edit_label
from tests.ingest.common import samples, sha, write_csv

HEADER = "image_path,emotion,valence,arousal,stress,subject,split"
ROWS = ["imgs/0.png,Happy,0.123456789012345,-0.987654321,0.3,s1,train",
        "imgs/1.png,angry,-0.5,0.75,,s2,val",          # stress derived (Anger -> 1)
        "imgs/2.png,Surprise,,,,s1,test",              # no V/A, no stress rule
        "imgs/3.png,,0.25,0.5,0.1,,",                  # V/A only, no subject, no split
        "imgs/4.png,7,1,-1,0,s3,train",
        "imgs/5.png,Sad,-0.3333333333333333,0.6666666666666666,1,s2,val"]


def _export(read, dataset: str, to):
    with read() as s:
        return export_dataset(s, require_dataset(s, dataset).id, to)


def _by_crop(read, dataset: str) -> dict[str, tuple]:
    return {x.crop_sha256: (x.cur_emotion, x.cur_valence, x.cur_arousal, x.cur_stress, x.subject, x.split)
            for x in samples(read, dataset).values()}


def _same(a: dict[str, tuple], b: dict[str, tuple]) -> None:
    assert set(a) == set(b) and len(a) == len(ROWS)
    for crop, (ea, *va, sa, pa) in a.items():
        eb, *vb, sb, pb = b[crop]
        assert (ea, sa, pa) == (eb, sb, pb), crop
        for x, y in zip(va, vb):
            assert (x is None and y is None) or abs(x - y) <= 1e-9, (crop, va, vb)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_then_import_is_lossless(env, read, suffix):
    write_csv(env / "in", ROWS, HEADER, images=len(ROWS))
    assert import_path("csv", env / "in" / "labels.csv", dataset="orig").added == len(ROWS)
    out = env / "out" / f"export{suffix}"
    info = _export(read, "orig", out)
    assert info["rows"] == len(ROWS) and info["file"] == str(out)
    crops = sorted((env / "out" / "export_crops").iterdir())
    assert [p.stem for p in crops] == sorted(x.crop_sha256 for x in samples(read, "orig").values())
    assert all(sha(p) == p.stem for p in crops)
    report = import_path("csv", out, dataset="copy")
    assert (report.added, report.errors) == (len(ROWS), [])
    orig, copy = _by_crop(read, "orig"), _by_crop(read, "copy")
    _same(orig, copy)
    assert orig[sha(env / "in" / "imgs" / "1.png")][:4] == ("Anger", -0.5, 0.75, 1.0)
    assert orig[sha(env / "in" / "imgs" / "3.png")] == (None, 0.25, 0.5, 0.1, None, None)
    # and once more: exporting the copy gives the same table (source_path aside)
    again = env / "again" / f"export{suffix}"
    _export(read, "copy", again)
    read_table = pd.read_csv if suffix == ".csv" else pd.read_parquet
    cols = ["emotion", "valence", "arousal", "stress", "subject", "split"]
    a, b = read_table(out), read_table(again)
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert (a["image_path"].str.replace("export_crops/", "") ==
            b["image_path"].str.replace("export_crops/", "")).all()


def test_export_has_the_human_label_and_its_source(env, write, read):
    write_csv(env / "in", ROWS[:2], HEADER, images=2)
    import_path("csv", env / "in" / "labels.csv", dataset="orig")
    smp = samples(read, "orig")["imgs/0.png"]
    with write() as s, s.begin():
        edit_label(s, smp.id, base_annotation_id=smp.cur_annotation_id, annotator="ana", emotion="Fear")
    _export(read, "orig", env / "out.csv")
    rows = {r["source_path"]: r for r in csv.DictReader((env / "out.csv").open())}
    assert (rows["imgs/0.png"]["emotion"], rows["imgs/0.png"]["emotion_source"]) == ("Fear", "human")
    assert (rows["imgs/1.png"]["emotion"], rows["imgs/1.png"]["emotion_source"]) == ("Anger", "imported")


def test_formulas_in_text_cells_are_neutralised_but_numbers_are_not(env, read):
    subjects = ["=cmd()", "+1+1", "-2+3", "@SUM(A1)", "plain"]
    rows = [f"imgs/{i}.png,Sad,-0.5,-{i / 10},0.5,{subj},train" for i, subj in enumerate(subjects)]
    write_csv(env / "in", rows, HEADER, images=len(rows))
    import_path("csv", env / "in" / "labels.csv", dataset="orig")
    _export(read, "orig", env / "out.csv")
    with (env / "out.csv").open(newline="") as fh:
        got = list(csv.DictReader(fh))
    assert [r["subject"] for r in got] == ["'=cmd()", "'+1+1", "'-2+3", "'@SUM(A1)", "plain"]
    assert {r["valence"] for r in got} == {"-0.5"}
    assert [r["arousal"] for r in got] == ["0.0", "-0.1", "-0.2", "-0.3", "-0.4"]
    assert all(not r[c].startswith("'") for r in got for c in ("valence", "arousal", "stress", "emotion"))
    _export(read, "orig", env / "out.parquet")  # Parquet is not a spreadsheet format: kept as is
    assert sorted(pd.read_parquet(env / "out.parquet")["subject"]) == sorted(subjects)


def test_safe_cell_and_bad_target(env, read):
    assert safe_cell("=1+2") == "'=1+2" and safe_cell("\tx") == "'\tx" and safe_cell("a=b") == "a=b"
    assert safe_cell(-1.5) == -1.5 and safe_cell(-3) == -3 and safe_cell(None) is None
    write_csv(env / "in", ROWS[:1], HEADER, images=1)
    import_path("csv", env / "in" / "labels.csv", dataset="orig")
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        _export(read, "orig", env / "out.xlsx")


def test_neutralised_subjects_come_back_unchanged_on_reimport(env, read):
    from sqlalchemy import select

    from core.export import export_dataset
    from core.ingest import import_path
    from core.store.db import read_session
    from core.store.models import Sample
    from tests.helpers import write_image

    root = env / "in"
    lines = ["image_path,emotion,valence,arousal,subject"]
    for i, subj in enumerate(["=cmd()", "-x", "plain"]):
        write_image(root / f"{i}.png", 900 + i)
        lines.append(f"{i}.png,Happy,0.1,0.2,{subj}")
    (root / "l.csv").write_text("\n".join(lines))
    import_path("csv", root / "l.csv", dataset="a")
    with read_session() as s:
        export_dataset(s, 1, env / "out" / "e.csv")
    import_path("csv", env / "out" / "e.csv", dataset="b")
    with read() as s:
        subjects = s.scalars(select(Sample.subject).where(Sample.dataset_id == 2).order_by(Sample.id)).all()
    assert subjects == ["=cmd()", "-x", "plain"]
