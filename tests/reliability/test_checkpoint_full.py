"""Disk full (or quota, I/O error, read-only) while a checkpoint is written: one line naming the
checkpoint file and the cause, no temp file left, the previous checkpoint intact, and the failed
run resumes. Generated variants: where the write fails x the errno x which file; simulated, plus
a real tiny tmpfs under `affectlab train`."""
from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from core.config import REPO_ROOT
from core.jobs.store import resume
from core.model.checkpoint import CheckpointWriteError, load_checkpoint, save_checkpoint
from core.model.config import ModelConfig
from core.model.net import build_model
from tests.reliability.corpus import REPORT
from tests.reliability.test_clear_errors import _mount_point, leftovers, tmpfs
from tests.training.tiny import import_tiny, tiny_config
from training import runs
from training.loop import run_dir, train
from training.state import load_state

CODES = [errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS]


class FillingFile:
    """A file that takes `room` bytes, then refuses (after writing the part that fitted)."""

    def __init__(self, f, room: int, code: int):
        self.f, self.room, self.code, self.written = f, room, code, 0

    def write(self, data) -> int:
        data = bytes(data)
        if self.written + len(data) > self.room:
            self.f.write(data[:self.room - self.written])
            self.written = self.room
            raise OSError(self.code, os.strerror(self.code))
        self.f.write(data)
        self.written += len(data)
        return len(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()


@contextmanager
def disk_fails(*, name: str, at: int = 1, how: str = "write", room: int = 0,
               code: int = errno.ENOSPC) -> Iterator[dict]:
    """The at-th atomic write of a file called `name` fails `how`: while writing after `room`
    bytes, at fsync, at the rename, or when creating the temp file."""
    real_mkstemp, real_fdopen, real_fsync, real_replace = tempfile.mkstemp, os.fdopen, os.fsync, os.replace
    state = {"n": 0, "fds": set(), "failed": 0}

    def refuse():
        state["failed"] += 1
        raise OSError(code, os.strerror(code))

    def mkstemp(*a, prefix=None, **k):
        if prefix == f".{name}.":
            state["n"] += 1
            if state["n"] == at and how == "mkstemp":
                refuse()
            fd, tmp = real_mkstemp(*a, prefix=prefix, **k)
            if state["n"] == at:
                state["fds"].add(fd)
            return fd, tmp
        return real_mkstemp(*a, prefix=prefix, **k)

    def fdopen(fd, *a, **k):
        f = real_fdopen(fd, *a, **k)
        if fd in state["fds"] and how == "write":
            state["failed"] += 1
            return FillingFile(f, room, code)
        return f

    def fsync(fd):
        if fd in state["fds"] and how == "fsync":
            refuse()
        return real_fsync(fd)

    def replace(src, dst, *a, **k):
        if how == "replace" and Path(dst).name == name and state["n"] == at and not state["failed"]:
            refuse()
        return real_replace(src, dst, *a, **k)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", mkstemp)
        patch.setattr(os, "fdopen", fdopen)
        patch.setattr(os, "fsync", fsync)
        patch.setattr(os, "replace", replace)
        yield state


def assert_one_line(exc: BaseException, path: Path, code: int) -> None:
    msg = str(exc)
    assert "\n" not in msg and str(path) in msg and os.strerror(code) in msg, msg
    assert errno.errorcode[code] in msg and "enforce fail" not in msg, msg


HOW = [("write", 0), ("write", 100), ("write", 4096), ("write", 150_000), ("fsync", 0), ("replace", 0),
       ("mkstemp", 0)]


@pytest.mark.parametrize("code", CODES, ids=[errno.errorcode[c] for c in CODES])
@pytest.mark.parametrize("how,room", HOW, ids=[f"{h}-{r}" for h, r in HOW])
def test_a_failed_checkpoint_write_keeps_the_previous_file(tmp_path, how, room, code):
    path = tmp_path / "run" / "last.pt"
    config = ModelConfig()
    save_checkpoint(path, build_model(config), config, metrics={"epoch": 1})
    before = path.read_bytes()
    with disk_fails(name="last.pt", how=how, room=room, code=code) as state, \
            pytest.raises(CheckpointWriteError) as info:
        save_checkpoint(path, build_model(config), config, metrics={"epoch": 2})
    assert state["failed"] == 1
    assert_one_line(info.value, path, code)
    assert info.value.errno == code and info.value.path == path
    assert path.read_bytes() == before and leftovers(tmp_path) == []
    assert load_checkpoint(path)[2]["metrics"] == {"epoch": 1}
    REPORT.record("disk full at a checkpoint (simulated)", clear_error=True)


def test_an_unrelated_failure_is_not_dressed_as_a_disk_error(tmp_path):
    class Unsaveable:
        pass

    with pytest.raises(TypeError):  # a payload problem stays itself, nothing written
        save_checkpoint(tmp_path / "m.pt", build_model(ModelConfig()), extra={"x": Unsaveable()})
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def tiny(env):
    return import_tiny(env, 32)


FAILS = [("best.pt", 1, errno.ENOSPC), ("last.pt", 1, errno.EDQUOT), ("state.pt", 1, errno.ENOSPC),
         ("last.pt", 2, errno.ENOSPC), ("state.pt", 2, errno.EIO), ("state.pt", 2, errno.ENOSPC)]


@pytest.mark.parametrize("name,epoch,code", FAILS, ids=[f"{n}-epoch{e}-{errno.errorcode[c]}" for n, e, c in FAILS])
def test_training_fails_with_one_line_and_resumes(tiny, caplog, name, epoch, code):
    cfg = tiny_config(epochs=2)
    run_id = runs.create_run(cfg)
    folder = run_dir(run_id)
    # every epoch saves last.pt and state.pt once; best.pt only when the score improved (epoch 1)
    with disk_fails(name=name, at=epoch, how="write", room=2000, code=code), \
            pytest.raises(CheckpointWriteError) as info:
        train(cfg, run_id=run_id)
    assert_one_line(info.value, folder / name, code)
    row = runs.get_run(run_id)
    assert row["status"] == "failed" and row["error"] == str(info.value)
    assert leftovers(folder) == []
    for kept in folder.glob("*.pt"):  # whatever is there is whole
        (load_state if kept.name == "state.pt" else load_checkpoint)(kept)
    if epoch == 2:
        assert load_state(folder / "state.pt")["epoch"] == 1
    REPORT.record("disk full at a checkpoint (training run)", clear_error=True)

    resume(run_id)
    with caplog.at_level(logging.INFO, logger="training.loop"):
        result = train(cfg, run_id=run_id)
    assert result["status"] == "succeeded" and [h["epoch"] for h in result["history"]] == [1, 2]
    assert ("resumed after epoch 1" in caplog.text) == (epoch == 2)
    assert load_state(folder / "state.pt")["epoch"] == 2 and runs.get_run(run_id)["error"] is None
    load_checkpoint(result["checkpoint"])


def _cli(env: Path, models: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "AFFECTLAB_DB_URL": f"sqlite:///{env / 'test.db'}",
               "AFFECTLAB_DATA_DIR": str(env / "data"), "AFFECTLAB_MODELS_DIR": str(models)}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=REPO_ROOT, env=environ,
                          capture_output=True, text=True, timeout=600)


TRAIN = ["train", "--dataset", "tiny", "--backbone", "mini_xception", "--init", "scratch", "--epochs", "2",
         "--batch-size", "16", "--device", "cpu", "--no-augment", "--scheduler", "none"]


@pytest.mark.parametrize("size", ["600k", "1500k"])  # full in epoch 1 (state.pt) / epoch 2 (best.pt)
def test_real_full_disk_under_affectlab_train(env, tiny, size):
    with tmpfs(_mount_point(), f"size={size}") as full:
        out = _cli(env, full, *TRAIN)
        err = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
        REPORT.record("disk full at a checkpoint (real tmpfs)", clear_error=out.returncode == 1 and len(err) == 1,
                      crash=out.returncode not in (0, 1), traceback="Traceback" in out.stderr)
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert len(err) == 1 and "No space left on device (ENOSPC)" in err[0], out.stderr[-2000:]
        failed = Path(err[0].split("cannot write checkpoint ")[1].split(":")[0])
        assert failed.parent.parent == full and failed.name in ("best.pt", "last.pt", "state.pt")
        assert leftovers(full) == []
        for kept in failed.parent.glob("*.pt"):
            (load_state if kept.name == "state.pt" else load_checkpoint)(kept)
        run_id = int(failed.parent.name.removeprefix("run-"))
        assert runs.get_run(run_id)["error"] == err[0].removeprefix("error: ")
        # room made, the run resumes from its last good state and finishes
        subprocess.run(["mount", "-o", "remount,size=8m", str(full)], check=True)
        resume(run_id)  # what `affectlab resume` does, without starting a worker
        again = _cli(env, full, "train", "--run-id", str(run_id))
        assert again.returncode == 0, again.stderr[-2000:]
        assert runs.get_run(run_id)["status"] == "succeeded"
        assert torch.load(failed.parent / "state.pt", weights_only=True)["epoch"] == 2
