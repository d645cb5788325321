"""Table pitfalls, generated: Parquet integer columns with a missing value (floats) read as the
integers they hold, exactly as the same CSV; OpenFace NaN cells in success=0 frames never refuse;
a backslash or colon in a Linux file name is a character, not a separator; a header of up to
1,000,000 columns is read (or refused for a duplicate) in seconds."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from core.ingest import ImportFailed, import_path
from core.store.db import read_session
from core.store.models import Dataset, Sample
from tests.helpers import write_image, write_openface
from tests.reliability.corpus import REPORT


def _stored(dataset: str) -> dict[str, tuple]:
    with read_session() as s:
        rows = s.execute(select(Sample.source_path, Sample.cur_emotion, Sample.subject, Sample.cur_valence)
                         .join(Dataset, Dataset.id == Sample.dataset_id).where(Dataset.name == dataset))
        return {r[0]: tuple(r[1:]) for r in rows}


@pytest.mark.parametrize("seed", range(8))
def test_parquet_integer_codes_with_missing_values_read_as_the_csv(env, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 15))
    for i in range(n):
        write_image(env / "in" / f"{i}.png", 100 * seed + i)
    missing = rng.random(n) < 0.3
    missing[0] = True  # at least one missing code: the column becomes float
    frame = pd.DataFrame({
        "image_path": [f"{i}.png" for i in range(n)],
        "emotion": pd.array([None if m else int(rng.integers(0, 8)) for m in missing], dtype="Int64"
                            ).astype("float64"),
        "valence": rng.uniform(-1, 1, n).round(3), "arousal": rng.uniform(-1, 1, n).round(3),
        "subject": pd.array([None if rng.random() < 0.3 else int(rng.integers(1, 40)) for _ in range(n)],
                            dtype="Int64").astype("float64")})
    frame.to_parquet(env / "in" / "t.parquet", index=False)
    frame.astype({"emotion": "Int64", "subject": "Int64"}).to_csv(env / "in" / "t.csv", index=False)
    assert frame["emotion"].dtype.kind == "f"  # what a reader of Parquet gets
    import_path("csv", env / "in" / "t.parquet", dataset="pq")
    import_path("csv", env / "in" / "t.csv", dataset="csv")
    pq, csv = _stored("pq"), _stored("csv")
    bad = sum(pq[k] != csv[k] for k in csv)
    assert all(s is None or "." not in s for _, s, _ in pq.values())  # subject 7, never "7.0"
    REPORT.record("parquet integer columns", misaligned=bad)
    assert pq == csv


@pytest.mark.parametrize("seed", range(6))
def test_openface_nan_cells_in_untracked_frames_do_not_refuse(env, seed):
    rng = np.random.default_rng(seed)
    csv = write_openface(env / "of", "Happy", "clip", frames=6)
    rows = [r.split(", ") for r in csv.read_text().splitlines()]
    names = [c.strip() for c in rows[0]]
    failed = sorted({int(x) for x in rng.integers(1, 7, size=3)})
    for f in failed:
        rows[f][names.index("success")] = "0"
        for col in rng.choice([c for c in names if c not in ("frame", "success")], size=5, replace=False):
            rows[f][names.index(col)] = str(rng.choice(["nan", "-nan", "", "inf"]))
    csv.write_text("\n".join(", ".join(r) for r in rows) + "\n")
    report = import_path("openface", env / "of", dataset="of")
    assert report.errors == [] and report.added == 6 - len(failed)
    assert sum(report.skipped.values()) == len(failed)
    REPORT.record("openface NaN in success=0 frames", clear_error=False)


NAMES = ["a\\b.png", "\\lead.png", "trail\\.png", "x\\y\\z.png", "C:\\f.png", "up\\..\\..\\x.png",
         "a:b.png", "back\\\\double.png"]


@pytest.mark.parametrize("name", NAMES)
def test_backslash_in_a_linux_file_name_is_a_character(env, name):
    folder = env / "in" / "Happy"
    write_image(folder / name, len(name))
    write_image(folder / "plain.png", 1)
    report = import_path("folder", env / "in", dataset="f")
    assert report.errors == [] and report.added == 2
    (env / "in" / "labels.csv").write_text(f"image_path,emotion,valence,arousal\nHappy/{name},Sad,0,0\n")
    assert import_path("csv", env / "in" / "labels.csv", dataset="c").added == 1
    REPORT.record("backslash in a file name", clear_error=False)


def test_windows_separators_still_find_files_that_exist_as_folders(env):
    write_image(env / "in" / "imgs" / "0.png", 3)
    (env / "in" / "l.csv").write_text("image_path,emotion,valence,arousal\nimgs\\0.png,Sad,0,0\n")
    assert import_path("csv", env / "in" / "l.csv", dataset="w").added == 1
    (env / "in" / "bad.csv").write_text("image_path,emotion,valence,arousal\n..\\..\\etc\\passwd,Sad,0,0\n")
    with pytest.raises(ImportFailed, match="climbs out"):
        import_path("csv", env / "in" / "bad.csv", dataset="w")


@pytest.mark.parametrize("columns", [10_000, 100_000, 1_000_000])
@pytest.mark.parametrize("duplicate", [False, True])
def test_very_wide_headers_take_seconds(env, columns, duplicate):
    write_image(env / "in" / "0.png", 9)
    extra = [f"c{i}" for i in range(columns)] + (["c7"] if duplicate else [])
    header = ["image_path", "emotion", "valence", "arousal", *extra]
    (env / "in" / "wide.csv").write_text(",".join(header) + "\n" + ",".join(["0.png", "Sad", "0", "0"]
                                                                           + ["1"] * len(extra)) + "\n")
    t0 = time.perf_counter()
    if duplicate:
        with pytest.raises(ImportFailed) as info:
            import_path("csv", env / "in" / "wide.csv", dataset="wide")
        message = str(info.value)
        assert "duplicated column(s) c7" in message and len(message) < 2000
    else:
        assert import_path("csv", env / "in" / "wide.csv", dataset="wide").added == 1
    seconds = time.perf_counter() - t0
    REPORT.record("very wide CSV header", clear_error=duplicate, crash=seconds > 30)
    assert seconds < 30, seconds
