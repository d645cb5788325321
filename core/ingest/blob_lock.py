"""A file lock beside the crop/media store: writers hold it shared, clean-up and gc exclusively.

An import (or a live capture) holds the lock shared from before its first look at the store
until its commit; deleting content-addressed files needs it exclusively, so no file another
writer has found, or is about to reference, can disappear under it. flock locks are per open
file, so threads of one process exclude each other too; a killed process releases its lock.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".blobs.lock"


class DataDirError(RuntimeError):
    """The data dir cannot be written (read-only, full, not a folder); the message names the file
    and the cause."""


def _open(data_dir: Path) -> int:
    path = data_dir / LOCK_NAME
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DataDirError(f"cannot use the data dir {data_dir}: {exc.strerror or exc}") from None


class BlobLock:
    """The shared hold of one writer (an import run or a capture)."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def hold(self) -> None:
        """Take the lock shared (waits while a clean-up or gc deletes files; they are short)."""
        if self._fd is None:
            fd = _open(self.data_dir)
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops its flock

    def __del__(self) -> None:  # a writer that forgot release() (e.g. a capture) frees it here
        self.release()


@contextmanager
def exclusive(data_dir: Path, *, wait_s: float = 0.0) -> Iterator[bool]:
    """Yields True while no writer holds the lock (taken exclusively), False if one still did
    after `wait_s` seconds (then nothing may be deleted)."""
    fd = _open(data_dir)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        yield True
    finally:
        os.close(fd)
