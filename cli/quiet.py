"""Drop the native libraries' chatter (LiteRT INFO lines, "Sparsity tensors" warnings, glog
W0000 lines) from stderr while a command runs; everything else still reaches the terminal.

The C++ code writes straight to file descriptor 2, so Python's warnings or logging filters
cannot see it: fd 2 is pointed at a pipe whose reader forwards every other line. Progress bars
write to terminal_stderr(), the real stderr, so they redraw in place instead of waiting for a
newline.
"""
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

NOISE = re.compile(
    rb"^(INFO: |WARNING: \[model_load\.cc|WARNING: Logging before InitGoogle|"
    rb"[IW]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\] )")
_terminal: TextIO | None = None


def is_noise(line: bytes) -> bool:
    """Whether a stderr line is native-library chatter (LiteRT, TFLite, glog, MediaPipe)."""
    return NOISE.match(line) is not None


def terminal_stderr() -> TextIO:
    """The real stderr while filtering runs (for progress bars), else sys.stderr."""
    return _terminal or sys.stderr


def _forward(read_fd: int, write_fd: int) -> None:
    pending = b""
    while chunk := os.read(read_fd, 65536):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        kept = b"".join(line + b"\n" for line in lines if not is_noise(line))
        if kept:
            os.write(write_fd, kept)
    if pending and not is_noise(pending):
        os.write(write_fd, pending)
    os.close(read_fd)


@contextmanager
def native_noise_filtered() -> Iterator[None]:
    """Filter fd 2 through is_noise for the duration; restores it (and flushes) on exit."""
    global _terminal
    sys.stderr.flush()
    saved = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    reader = threading.Thread(target=_forward, args=(read_fd, saved), daemon=True)
    reader.start()
    _terminal = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield
    finally:
        sys.stderr.flush()
        _terminal.flush()
        _terminal.close()
        _terminal = None
        os.dup2(saved, 2)  # closes the pipe's last writer: the reader drains and stops
        reader.join(timeout=5)
        os.close(saved)
