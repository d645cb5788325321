"""Broken environments give one line naming the file and the cause, exit 1, no traceback, and
leave nothing half-written: a garbage store, read-only and full disks (simulated, and real tiny
tmpfs mounts where this machine allows them), `%` in the store path, damaged checkpoints and
ONNX files, hostile checkpoint configs. Generated variants of each."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.config import REPO_ROOT
from core.ingest import import_path
from core.ingest.blob_lock import DataDirError
from core.model.checkpoint import load_checkpoint, save_checkpoint
from core.model.config import ModelConfig
from core.model.net import build_model
from core.store.db import read_session
from core.store.errors import StoreError
from core.store.models import Sample
from tests.helpers import write_affectnet_csv
from tests.reliability.corpus import REPORT


def cli(env: Path, *args: str, db: str | None = None, data: Path | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "AFFECTLAB_DB_URL": db or f"sqlite:///{env / 'test.db'}",
               "AFFECTLAB_DATA_DIR": str(data or env / "data")}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO_ROOT, env=environ,
                          capture_output=True, text=True, timeout=300)


def one_line_error(out: subprocess.CompletedProcess, *must: str, cls: str) -> str:
    err = out.stderr.strip().splitlines()
    REPORT.record(cls, clear_error=out.returncode == 1 and len(err) >= 1, crash=out.returncode not in (0, 1),
                  traceback="Traceback" in out.stderr)
    assert out.returncode == 1, out.stderr[-2000:]
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    line = [e for e in err if e.startswith("error:")]
    assert line and all(m in line[0] for m in must), (must, out.stderr[-1000:])
    return line[0]


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


GARBAGE = {"random": lambda: np.random.default_rng(0).bytes(3000), "zeros": lambda: bytes(8192),
           "text": lambda: b"hello world\n" * 50, "sqlite header": lambda: b"SQLite format 3\x00" + bytes(200),
           "html": lambda: b"<html><body>not a store</body></html>\n" * 40}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
@pytest.mark.parametrize("verb", ["import", "export"])
def test_a_garbage_store_file_is_named_not_a_traceback(env, kind, verb):
    db = env / "garbage.db"
    db.write_bytes(GARBAGE[kind]())
    before = db.read_bytes()
    csv = write_affectnet_csv(env / "in", 3)
    args = {"import": ["import", "csv", str(csv), "--dataset", "d"], "stats": ["stats", "--dataset", "d"],
            "export": ["export", "--dataset", "d", "--to", str(env / "out.csv")]}[verb]
    out = cli(env, *args, db=f"sqlite:///{db}")
    one_line_error(out, str(db), cls="garbage store file")
    assert db.read_bytes() == before and not (env / "out.csv").exists()


@pytest.mark.parametrize("name", ["a%b.db", "100%.db", "%(here)s.db", "%%.db", "x%41.db"])
def test_percent_in_the_store_path(env, name):
    csv = write_affectnet_csv(env / "in", 3)
    folder = env / "p%c"
    out = cli(env, "import", "csv", str(csv), "--dataset", "d", "--json", db=f"sqlite:///{folder / name}")
    REPORT.record("percent in the store path", crash=out.returncode != 0, traceback="Traceback" in out.stderr)
    assert out.returncode == 0, out.stderr[-2000:]
    assert Path(make_url(f"sqlite:///{folder / name}").database).exists()  # URL rules: %41 is "A"
    backup = cli(env, "backup", "--to", str(env / "b.db"), db=f"sqlite:///{folder / name}")
    assert backup.returncode == 0, backup.stderr[-2000:]


@pytest.mark.parametrize("fail_at", [1, 2, 5])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO])
def test_data_dir_write_failures_store_nothing_and_leave_no_temp_file(env, monkeypatch, fail_at, code):
    import core.ingest.files as files

    calls = {"n": 0}
    real_open = open

    def failing_open(path, mode="r", *a, **k):
        if "w" in mode and str(path).endswith(".tmp"):
            calls["n"] += 1
            if calls["n"] >= fail_at:
                fh = real_open(path, mode, *a, **k)
                fh.write(b"half")  # a partial write, then the device refuses
                fh.close()
                raise OSError(code, os.strerror(code))
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr(files, "open", failing_open, raising=False)
    csv = write_affectnet_csv(env / "in", 6)
    with pytest.raises(DataDirError) as info:
        import_path("csv", csv, dataset="d")
    assert os.strerror(code) in str(info.value) and str(env / "data") in str(info.value)
    assert "\n" not in str(info.value)
    with read_session() as s:
        assert s.scalar(select(func.count()).select_from(Sample)) == 0
    assert leftovers(env / "data") == []
    assert list((env / "data" / "crops").rglob("*.png")) == []  # the ones written before: removed
    REPORT.record("disk full / read-only data dir (simulated)", clear_error=True)


def test_a_store_write_failure_is_named_and_rolled_back(env, monkeypatch):
    import sqlite3

    import core.ingest.run as run

    csv = write_affectnet_csv(env / "in", 4)
    real = run.commit_samples

    def full(session, *a, **k):
        real(session, *a, **k)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(run, "commit_samples", full)
    with pytest.raises(StoreError, match="disk is full; free disk space") as info:
        import_path("csv", csv, dataset="d")
    assert str(env / "test.db") in str(info.value)
    # restore only the patched function: monkeypatch.undo() would also drop the env fixture's
    # AFFECTLAB_DB_URL, and the check would then read the default store instead of this one
    monkeypatch.setattr(run, "commit_samples", real)
    with read_session() as s:
        assert s.get_bind().url.database == str(env / "test.db")
        assert s.scalar(select(func.count()).select_from(Sample)) == 0
    assert list((env / "data" / "crops").rglob("*.png")) == []
    REPORT.record("disk full in the store's folder (simulated)", clear_error=True)


# -- real read-only and full file systems (tiny tmpfs mounts; needs mount rights) ---------------

@contextmanager
def tmpfs(path: Path, options: str):
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:100]}); the simulated "
                    "variants above cover this class")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _mount_point() -> Path:
    return Path("/tmp") / f"affectlab-test-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("where", ["data dir", "store folder"])
def test_read_only_file_system(env, where):
    csv = write_affectnet_csv(env / "in", 3)
    import_path("csv", csv, dataset="seed")  # a store to back up
    with tmpfs(_mount_point(), "ro,size=64k") as ro:
        data = ro / "data" if where == "data dir" else env / "data"
        db = f"sqlite:///{ro / 'a.db'}" if where == "store folder" else None
        out = cli(env, "import", "csv", str(csv), "--dataset", "d", db=db, data=data)
        line = one_line_error(out, str(ro), cls="read-only file system")
        assert "Read-only" in line or "readonly" in line or "unable to open" in line
        backup = cli(env, "backup", "--to", str(ro / "b.db"))
        one_line_error(backup, str(ro / "b.db"), cls="read-only file system")


@pytest.mark.parametrize("size,rows", [("48k", 40), ("96k", 120)])
def test_full_data_dir(env, size, rows):
    csv = write_affectnet_csv(env / "in", rows)
    with tmpfs(_mount_point(), f"size={size}") as full:
        out = cli(env, "import", "csv", str(csv), "--dataset", "d", data=full / "data")
        one_line_error(out, "No space left on device", str(full), cls="disk full (real tmpfs)")
        assert leftovers(full) == [] and not list((full / "data" / "crops").rglob("*.png"))
    with read_session() as s:
        assert s.scalar(select(func.count()).select_from(Sample)) == 0


def test_full_store_folder(env):
    csv = write_affectnet_csv(env / "in", 400)
    with tmpfs(_mount_point(), "size=160k") as full:
        out = cli(env, "import", "csv", str(csv), "--dataset", "d", db=f"sqlite:///{full / 'a.db'}")
        one_line_error(out, str(full / "a.db"), cls="disk full (real tmpfs)")
        assert "full" in out.stderr


# -- models -----------------------------------------------------------------------------------

def _checkpoint(path: Path, **config_changes) -> Path:
    config = ModelConfig()
    save_checkpoint(path, build_model(config), config)
    if config_changes:
        payload = torch.load(path, weights_only=True)
        payload["config"].update(config_changes)
        torch.save(payload, path)
    return path


@pytest.mark.parametrize("value", ["64", 40000, 0, -1, 3.5, True, None, [64]])
def test_hostile_input_size_is_refused_before_building_the_model(env, value):
    path = _checkpoint(env / "bad.pt", input_size=value)
    with pytest.raises(ValueError, match="input_size") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    REPORT.record("hostile checkpoint config", clear_error=True)


@pytest.mark.parametrize("keep", [0.0, 0.05, 0.3, 0.6, 0.95, 0.999])
def test_truncated_checkpoint(env, keep):
    path = _checkpoint(env / "model.pt")
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ValueError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    REPORT.record("truncated checkpoint", clear_error=True)


@pytest.mark.parametrize("kind", ["random", "empty", "text", "checkpoint named onnx"])
def test_garbage_onnx_file(env, kind):
    from core.inference.backends import OnnxRunner

    path = env / "model.onnx"
    if kind == "checkpoint named onnx":
        _checkpoint(env / "m.pt").rename(path)
    else:
        path.write_bytes({"random": np.random.default_rng(1).bytes(4000), "empty": b"",
                          "text": b"not onnx\n" * 20}[kind])
    with pytest.raises(ValueError, match="not a readable ONNX model") as info:
        OnnxRunner(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    REPORT.record("garbage ONNX file", clear_error=True)


@pytest.mark.parametrize("model", ["garbage.onnx", "trunc.pt", "size.pt"])
def test_predict_with_a_broken_model_is_one_line(env, model):
    from core.assets import asset_path

    (env / "garbage.onnx").write_bytes(b"\x08\x01garbage")
    data = _checkpoint(env / "good.pt").read_bytes()
    (env / "trunc.pt").write_bytes(data[:len(data) // 2])
    _checkpoint(env / "size.pt", input_size=40000)
    out = cli(env, "predict", str(asset_path("single_face.jpg")), "--model", str(env / model))
    one_line_error(out, str(env / model), cls="broken model file (CLI)")
