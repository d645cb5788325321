"""Hostile and broken input, generated (hypothesis, fixed seed) and hand-made, >= 1,000 cases: each
is refused with an error naming the file and row/field, raises nothing undocumented, writes
nothing outside the data dir and changes no existing label."""
from __future__ import annotations

import csv
import functools
import io
import shutil
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.faces.io import MAX_PIXELS, ImageError, decode_image, read_image
from core.ingest import ImportFailed, import_path
from core.ingest.tables import is_missing
from core.store.db import dispose_all
from core.taxonomy import get_taxonomy
from tests.conftest import ASSETS
from tests.helpers import write_affectnet_csv, write_image, write_openface
from tests.reliability.corpus import cases
from tests.reliability.hostile import BOMBS, IMAGE_FORMATS, Sandbox, image_bytes

TALLY: dict[str, int] = {}
EXPECTED = {"decode": 250, "bombs": 100, "random_bytes": 100, "csv_rows": 300, "csv_files": 120,
            "fer2013": 60, "openface": 50, "corpus": len(cases())}
HYP = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
TAX = get_taxonomy()
CELL = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")


def _count(key: str) -> None:
    TALLY[key] = TALLY.get(key, 0) + 1


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    """One seeded store for the whole module; every case must leave it exactly as it was."""
    root = tmp_path_factory.mktemp("hostile")
    sandbox = Sandbox(root)
    mp = pytest.MonkeyPatch()
    mp.setenv("AFFECTLAB_DATA_DIR", str(root / "data"))
    mp.setenv("AFFECTLAB_DB_URL", f"sqlite:///{root / 'test.db'}")
    mp.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
    mp.chdir(root / "cwd")
    seed = root / "cases" / "seed"
    import_path("csv", write_affectnet_csv(seed, 8, seed=3), dataset="seeded")
    sandbox.seed_images = sorted((seed / "imgs").iterdir())
    sandbox.baseline = sandbox.state()
    yield sandbox
    dispose_all()
    mp.undo()


def refused(box: Sandbox, kind: str, path, must=(), dataset: str = "seeded") -> list:
    """Import into the seeded dataset: ImportFailed (nothing else) naming file, line and field."""
    with pytest.raises(ImportFailed) as info:
        import_path(kind, path, dataset=dataset)
    errors = info.value.report.errors
    assert errors and all(e.file and e.reason for e in errors), errors
    got = {(e.line, e.field) for e in errors} | {(e.line, None) for e in errors}
    for want in must:
        assert want in got, (want, [str(e) for e in errors][:10])
    box.assert_untouched()
    return errors


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_hand_made_corpus(box, case):
    path = case.build(box.case(), box.root / "outside")
    refused(box, case.kind, path, case.must, case.dataset)
    _count("corpus")


@functools.cache
def _base(fmt: str, seed: int) -> bytes:
    return image_bytes(fmt, seed)


# -- images: decode_image must return pixels or raise ImageError naming the file ------------------

def _decoded_or_refused(data: bytes, name: str) -> None:
    t0 = time.perf_counter()
    try:
        frame = decode_image(data, name=name)
    except ImageError as exc:
        assert str(exc).startswith(f"{name}: "), exc
    else:
        assert frame.dtype.name == "uint8" and frame.ndim == 3 and frame.shape[2] == 3
    assert time.perf_counter() - t0 < 5.0


@settings(HYP, max_examples=EXPECTED["decode"])
@given(fmt=st.sampled_from(IMAGE_FORMATS), seed=st.integers(0, 3), cut=st.floats(0, 1),
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6))
def test_truncated_and_corrupted_images(fmt, seed, cut, flips):
    base = _base(fmt, seed)
    data = bytearray(base[:int(len(base) * cut)])
    for where, byte in flips:
        if data:
            data[min(len(data) - 1, int(where * len(data)))] = byte
    _decoded_or_refused(bytes(data), f"fuzz.{fmt.lower()}")
    _count("decode")


@settings(HYP, max_examples=EXPECTED["bombs"])
@given(ext=st.sampled_from(sorted(BOMBS)), w=st.integers(MAX_PIXELS // 65535 + 1, 65535), data=st.data())
def test_decompression_bombs_are_refused_from_the_header(box, ext, w, data):
    h = data.draw(st.integers(MAX_PIXELS // w + 1, 65535), label="height")  # w * h > the cap
    if ext == "jpg":  # patch a real JPEG's frame header: PIL needs the rest of the file to parse
        data = _jpeg_with_size(w, h)
    else:
        data = BOMBS[ext](w, h)
    path = box.case() / f"bomb.{ext}"
    path.write_bytes(data)
    t0 = time.perf_counter()
    with pytest.raises(ImageError, match="too large") as info:
        read_image(path)
    assert str(info.value).startswith(f"{path}: ")
    assert time.perf_counter() - t0 < 2.0
    _count("bombs")


def _jpeg_with_size(w: int, h: int) -> bytes:
    data = bytearray(image_bytes("JPEG", 0))
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = h.to_bytes(2, "big") + w.to_bytes(2, "big")
    return bytes(data)


@settings(HYP, max_examples=EXPECTED["random_bytes"])
@given(data=st.binary(max_size=4096), ext=st.sampled_from(["jpg", "png", "gif", "webp", "bmp"]))
def test_random_bytes_named_as_images(data, ext):
    _decoded_or_refused(data, f"random.{ext}")
    _count("random_bytes")


# -- CSV imports: rows with one defect each among good rows that would relabel seeded samples -----

def _bad_emotion(text: str) -> bool:
    if is_missing(text):
        return False
    try:
        TAX.parse(text)
    except Exception:  # noqa: BLE001 - LabelError is the contract; the importer must cope anyway
        return True
    return False


def _bad_number(lo: float, hi: float):
    def bad(text: str) -> bool:
        if is_missing(text):
            return False
        try:
            v = float(text)
        except ValueError:
            return True
        return not (v == v and lo - 1e-8 <= v <= hi + 1e-8)
    return st.one_of(st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "abc", "1,5", "--1"]),
                     st.floats().map(repr), st.text(CELL, min_size=1, max_size=12)).filter(bad)


BAD = {
    "emotion": st.one_of(st.sampled_from(["Joy", "8", "-1", "²", "--5", "9" * 400, "Happy!"]),
                         st.text(CELL, min_size=1, max_size=30)).filter(_bad_emotion),
    "valence": _bad_number(-1, 1), "arousal": _bad_number(-1, 1), "stress": _bad_number(0, 1),
    "split": st.text(CELL, min_size=1, max_size=12).filter(
        lambda t: not is_missing(t) and t.strip().lower() not in {"train", "val", "test", "pretrain", "labelled",
                                                                  "ssl", "classifier", "finetune"}),
    "image_path": st.one_of(
        st.sampled_from(["../outside/face.png", "/etc/passwd", "..", "zero.jpg", "text.jpg", "bomb.png",
                         "trunc.jpg", "link.png", "linkdir/face.png", "missing.png", "", "ok", "C:\\x.png"]),
        st.builds(lambda k, t: "../" * k + t, st.integers(1, 6), st.text(CELL, max_size=10)),
        st.builds(lambda t: "/" + t, st.text(CELL, max_size=20))),
}
ROW = st.one_of(st.none(), st.tuples(st.sampled_from(sorted(BAD) + ["cells"]), st.data()))


def _prepare(case, seed_images, outside) -> None:
    import os
    (case / "ok").mkdir()
    for i, img in enumerate(seed_images):
        shutil.copyfile(img, case / "ok" / f"{i}.png")
    (case / "zero.jpg").write_bytes(b"")
    (case / "text.jpg").write_text("not an image")
    (case / "bomb.png").write_bytes(BOMBS["png"](50000, 50000))
    (case / "trunc.jpg").write_bytes(image_bytes("JPEG")[:300])
    os.symlink(outside / "face.png", case / "link.png")
    os.symlink(outside / "dir", case / "linkdir")


@settings(HYP, max_examples=EXPECTED["csv_rows"])
@given(extra=st.lists(st.sampled_from(["stress", "split", "subject"]), unique=True), delim=st.sampled_from(",;\t|"),
       bom=st.booleans(), order=st.randoms(use_true_random=False), rows=st.lists(ROW, min_size=1, max_size=6),
       bad_first=st.data())
def test_csv_rows_with_defects(box, extra, delim, bom, order, rows, bad_first):
    header = ["image_path", "emotion", "valence", "arousal", *extra]
    order.shuffle(header)
    if all(r is None for r in rows):
        rows[0] = ("emotion", bad_first)
    case = box.case()
    _prepare(case, box.seed_images, box.root / "outside")
    lines, must = [], []
    for k, spec in enumerate(rows[:len(box.seed_images)]):
        i = k % len(box.seed_images)
        good = {"image_path": f"ok/{i}.png", "emotion": TAX.classes[(i + 3) % 8], "valence": "0.25",
                "arousal": "-0.5", "stress": "1", "split": "val", "subject": f'O"Brien, {delim} {k}'}
        cells = [good[c] for c in header]
        if spec is not None:
            field, data = spec
            if field == "cells":
                cells = cells + ["extra"] if data.draw(st.booleans()) else cells[:-1]
                must.append((k + 2, None))
            else:
                field = field if field in header else "emotion"
                cells[header.index(field)] = data.draw(BAD[field], label=field)
                must.append((k + 2, field))
        lines.append(cells)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delim, lineterminator="\n")
    writer.writerows([header, *lines])
    path = case / "labels.csv"
    path.write_text(("\ufeff" if bom else "") + buf.getvalue(), encoding="utf-8")
    refused(box, "csv", path, must)
    _count("csv_rows")


@settings(HYP, max_examples=EXPECTED["csv_files"])
@given(kind=st.sampled_from(["csv", "fer2013", "openface"]), how=st.sampled_from(["bytes", "text", "header"]),
       data=st.data())
def test_whole_csv_files_that_are_not_tables(box, kind, how, data):
    case = box.case()
    path = case / "table.csv"
    if how == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=3000), label="bytes"))
    elif how == "text":
        path.write_text(data.draw(st.text(max_size=500), label="text"), encoding="utf-8")
    else:  # a real header with columns dropped, renamed or duplicated
        cols = {"csv": ["image_path", "emotion", "valence", "arousal"], "fer2013": ["emotion", "pixels"],
                "openface": ["frame", "face_id", "confidence", "success"]}[kind]
        keep = data.draw(st.lists(st.sampled_from(cols), max_size=len(cols) + 2), label="columns")
        if set(keep) >= set(cols) and len(set(keep)) == len(keep):
            keep.append(keep[0])  # all required present: duplicate one
        path.write_text(",".join(keep + ["x"]) + "\n" + ",".join(["1"] * (len(keep) + 1)) + "\n")
    errors = refused(box, kind, path)
    assert any(e.file.endswith("table.csv") for e in errors)
    _count("csv_files")


def _valid_fer_code(text: str) -> bool:
    t = text.strip()
    return t.isdecimal() and len(t) < 10 and int(t) < 7


def _valid_pixels(text: str) -> bool:
    try:
        px = np.array(text.split(), dtype=np.int64)
    except (ValueError, OverflowError):
        return False
    return px.size == 2304 and px.min() >= 0 and px.max() <= 255


@settings(HYP, max_examples=EXPECTED["fer2013"])
@given(defect=st.sampled_from(["emotion", "pixels", "Usage", "cells"]), data=st.data())
def test_fer2013_rows_with_defects(box, defect, data):
    cells = {"emotion": "3", "pixels": " ".join(["7"] * 2304), "Usage": "Training"}
    if defect == "emotion":
        cells["emotion"] = data.draw(st.text(CELL, min_size=1, max_size=8).filter(
            lambda t: not is_missing(t) and not _valid_fer_code(t)), label="emotion")
    elif defect == "pixels":
        values = data.draw(st.lists(st.one_of(st.integers(-10**20, 10**20).map(str), st.text(CELL, max_size=4)),
                                    max_size=3000), label="pixels")
        cells["pixels"] = " ".join(values)
        if _valid_pixels(cells["pixels"]):
            cells["pixels"] += " 999"
    elif defect == "Usage":
        cells["Usage"] = data.draw(st.text(CELL, min_size=1, max_size=12).filter(
            lambda t: t.strip() and t.strip().lower() not in ("training", "publictest", "privatetest")), label="Usage")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(cells))
    writer.writerow(list(cells.values()) + (["extra"] if defect == "cells" else []))
    path = box.case() / "fer.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    refused(box, "fer2013", path, [(2, None if defect == "cells" else defect)])
    _count("fer2013")


@settings(HYP, max_examples=EXPECTED["openface"])
@given(frame=st.integers(1, 3), how=st.sampled_from(["cell", "image"]), data=st.data())
def test_openface_outputs_with_defects(box, frame, how, data):
    case = box.case()
    csv_path = write_openface(case, "Happy", "clip", frames=3)
    rows = [r.split(", ") for r in csv_path.read_text().splitlines()]
    names = [c.strip() for c in rows[0]]
    if how == "cell":
        col = data.draw(st.sampled_from([c for c in names if c not in ("success",)]), label="column")
        rows[frame][names.index(col)] = data.draw(st.sampled_from(["nan", "inf", "x", "", "1e400", "--"]),
                                                  label="value")
        csv_path.write_text("\n".join(", ".join(r) for r in rows) + "\n")
        must = (frame + 1, col)
    else:
        bmp = case / "Happy" / "clip_aligned" / f"frame_det_00_{frame:06d}.bmp"
        bad = data.draw(st.sampled_from(["gone", "empty", "bomb", "text", "cut"]), label="image")
        if bad == "gone":
            bmp.unlink()
        else:
            bmp.write_bytes({"empty": b"", "bomb": BOMBS["bmp"](9000, 9000), "text": b"no",
                             "cut": bmp.read_bytes()[:200]}[bad])
        must = (frame + 1, "image_path")
    refused(box, "openface", case, [must])
    _count("openface")


def test_zz_at_least_1000_cases_ran(box):
    if set(TALLY) != set(EXPECTED):
        pytest.skip(f"only {sorted(TALLY)} of the hostile tests ran")
    print(f"\nhostile cases: {TALLY} = {sum(TALLY.values())}")
    assert all(TALLY[k] >= EXPECTED[k] * 0.9 for k in EXPECTED), TALLY
    assert sum(TALLY.values()) >= 1000
    box.assert_untouched()


def test_control_good_input_is_imported(env):
    """Control, on its own store: the good rows the cases mix in do import (the defects refuse)."""
    write_image(env / "ok" / "0.png", 5)
    (env / "labels.csv").write_text('image_path,emotion,valence,arousal,subject\nok/0.png,Sad,0,0,"O""Brien, x"\n')
    assert import_path("csv", env / "labels.csv", dataset="control").added == 1
    from sqlalchemy import select

    from core.store.db import read_session
    from core.store.models import Sample
    with read_session() as s:
        assert s.scalar(select(Sample.subject)) == 'O"Brien, x'  # RFC 4180 quotes read back as written
