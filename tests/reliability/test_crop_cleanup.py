"""A refused import never deletes crops another import committed or is about to commit; gc removes
only unreferenced files. Generated schedules of two concurrent imports sharing images."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlalchemy import select

from core.ingest import ImportFailed, import_path
from core.ingest.blob_lock import exclusive
from core.ingest.csv_import import parse_csv
from core.ingest.files import BlobStore
from core.ingest.gc import GcBusy, collect_garbage
from core.ingest.run import PARSERS
from core.store.db import read_session
from core.store.models import Sample
from tests.helpers import write_image
from tests.reliability.corpus import REPORT

SCHEDULES = ("B commits, then A is refused", "A is refused while B is parsing",
             "A is refused before B starts", "both refused")


def _gate(name: str, events: dict[str, threading.Event]):
    """A csv parser that, after its rows, signals `<name>-parsed` and waits for `<name>-go`."""
    def parse(path, ctx):
        yield from parse_csv(path, ctx)
        events[f"{name}-parsed"].set()
        assert events[f"{name}-go"].wait(30), f"{name} never released"
    return parse


def _tables(root, rng, shared: int) -> tuple:
    """A: `shared` images + its own ones + one bad row at a random place; B: the shared images."""
    for i in range(shared + 4):
        write_image(root / "imgs" / f"{i}.png", 500 + i)
    a = [f"imgs/{i}.png,{i % 8},0.1,0.2" for i in range(shared + 4)]
    a.insert(int(rng.integers(0, len(a) + 1)), "imgs/missing.png,Happy,0,0")
    b = [f"imgs/{i}.png,{(i + 1) % 8},0.3,0.4" for i in range(shared)]
    (root / "a.csv").write_text("image_path,emotion,valence,arousal\n" + "\n".join(a) + "\n")
    (root / "b.csv").write_text("image_path,emotion,valence,arousal\n" + "\n".join(b) + "\n")
    return root / "a.csv", root / "b.csv"


def _run(kind: str, path, dataset: str, out: dict) -> None:
    try:
        out[dataset] = import_path(kind, path, dataset=dataset)
    except ImportFailed as exc:
        out[dataset] = exc
    except BaseException as exc:  # noqa: BLE001 - reported by the test as a crash
        out[dataset] = exc


def _crops_lost(env) -> list[str]:
    with read_session() as s:
        return [p for p in s.scalars(select(Sample.crop_path)) if not (env / "data" / p).is_file()]


@pytest.mark.parametrize("seed", range(16))
def test_refused_import_keeps_crops_of_a_concurrent_import(env, monkeypatch, seed):
    rng = np.random.default_rng(seed)
    schedule = SCHEDULES[seed % len(SCHEDULES)]
    a_csv, b_csv = _tables(env / "in", rng, shared=int(rng.integers(3, 30)))
    if schedule == "both refused":
        b_csv.write_text(b_csv.read_text() + "imgs/missing.png,Sad,0,0\n")
    ev = {k: threading.Event() for k in ("A-parsed", "A-go", "B-parsed", "B-go")}
    monkeypatch.setitem(PARSERS, "csvA", _gate("A", ev))
    monkeypatch.setitem(PARSERS, "csvB", _gate("B", ev))
    out: dict = {}
    ta = threading.Thread(target=_run, args=("csvA", a_csv, "A", out))
    tb = threading.Thread(target=_run, args=("csvB", b_csv, "B", out))
    ta.start()
    assert ev["A-parsed"].wait(30)  # A has written its crops (B's images among them)
    if schedule == "A is refused before B starts":
        ev["A-go"].set()
        ta.join(30)
    tb.start()
    assert ev["B-parsed"].wait(30)  # B found the images A wrote
    if schedule == "A is refused while B is parsing":
        ev["A-go"].set()
        ta.join(30)
    ev["B-go"].set()
    tb.join(30)
    ev["A-go"].set()
    ta.join(30)
    assert isinstance(out["A"], ImportFailed), out["A"]
    if schedule == "both refused":
        assert isinstance(out["B"], ImportFailed), out["B"]
    else:
        assert not isinstance(out["B"], BaseException), out["B"]
    lost = _crops_lost(env)
    REPORT.record("concurrent refused import", clear_error=isinstance(out["A"], ImportFailed),
                  crops_lost=len(lost))
    assert lost == []
    collect_garbage()  # whatever A could not delete safely is unreferenced now: gc takes it
    assert _crops_lost(env) == []
    with read_session() as s:
        used = set(s.scalars(select(Sample.crop_path)))
    on_disk = {p.relative_to(env / "data").as_posix() for p in (env / "data" / "crops").rglob("*.png")}
    assert on_disk == used


def test_gc_removes_orphans_of_a_killed_import_and_reports_dry_run_first(env):
    from tests.helpers import write_affectnet_csv

    import_path("csv", write_affectnet_csv(env / "in", 6), dataset="d")
    blobs = BlobStore()  # a writer killed before its commit: files nobody references
    orphans = [blobs.put_crop_array(np.full((8, 8, 3), i, np.uint8))[1] for i in range(70)]
    (env / "data" / "crops" / "ab").mkdir(parents=True, exist_ok=True)
    (env / "data" / "crops" / "ab" / ".x.png.123.1.tmp").write_bytes(b"half")
    blobs.release()
    dry = collect_garbage(dry_run=True)
    nothing = {"crops": 0, "media": 0, "clip_crops": 0, "clip_embeddings": 0, "clip_audio": 0, "temp": 0,
               "keys": 0, "uploads": 0}
    assert dry["would_remove"] == nothing | {"crops": 70, "temp": 1} and dry["kept"] == 6
    assert all((env / "data" / o).exists() for o in orphans)
    done = collect_garbage()
    assert done["removed"] == nothing | {"crops": 70, "temp": 1} and done["bytes"] > 0
    assert not any((env / "data" / o).exists() for o in orphans)
    assert _crops_lost(env) == []
    assert collect_garbage()["removed"] == nothing


def test_gc_refuses_while_a_writer_holds_the_store(env):
    blobs = BlobStore()
    blobs.put_crop_array(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(GcBusy, match="import or capture"):
        collect_garbage()
    with exclusive(env / "data") as free:
        assert not free
    blobs.release()
    assert collect_garbage()["removed"]["crops"] == 1


def test_gc_verb(env):
    import json
    import os
    import subprocess
    import sys

    from core.config import REPO_ROOT
    from tests.helpers import write_affectnet_csv

    import_path("csv", write_affectnet_csv(env / "in", 3), dataset="d")
    blobs = BlobStore()
    for i in range(5):
        blobs.put_crop_array(np.full((8, 8, 3), i, np.uint8))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "cli", "gc", *args], cwd=REPO_ROOT, env=dict(os.environ),
                              capture_output=True, text=True, timeout=120)

    busy = run("--json")
    assert busy.returncode == 1 and "import or capture" in busy.stderr and "Traceback" not in busy.stderr
    blobs.release()
    dry = json.loads(run("--dry-run", "--json").stdout)
    assert dry["ok"] and dry["would_remove"]["crops"] == 5
    done = run()
    assert done.returncode == 0 and done.stdout.startswith("removed 5 crop(s)"), done.stdout
    assert _crops_lost(env) == []
