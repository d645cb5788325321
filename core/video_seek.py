"""Keyframe seeking for the one video reader (core.video): frames deep in a video without decoding
everything before them, with the index and time a decode from the start gives them.

A packet index (the video packets demuxed, never decoded) lists every frame's presentation time
stamp: its rank among them is the frame's decode position, its time is what the frame will
report. `decode_wanted` seeks (in the stream's time base) to the keyframe at or before each wanted
frame, decodes forward (frames no other frame refers to and that are not wanted are skipped by
the decoder, AVDISCARD_NONREF), and checks every frame the decoder gives against the index. Any
doubt ends in None / SeekMismatch, and the caller decodes from the start as before: missing or
repeated time stamps, discarded or corrupt packets, a stream not opening on a keyframe, a demuxer
or decoder error, a seek that lands after its target (variable frame rate, a bad container
index), a frame the index did not promise or a wanted frame the decoder passed over.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np


class SeekMismatch(Exception):
    """The stream did not decode as its packet index promised: decode from the start instead."""


@dataclass(frozen=True)
class PacketIndex:
    """One row per video packet, in presentation order (row = decode position from the start)."""

    pts: np.ndarray  # (n,) int64 presentation time stamps in the stream's time base, increasing
    seconds: np.ndarray  # (n,) float64, computed exactly as PyAV's frame.time computes it
    keyframes: np.ndarray  # (k,) int64 rows of the keyframes, increasing (row 0 is one)
    until: float | None = None  # every frame shown up to this time is listed; None: the whole stream

    def __len__(self) -> int:
        return len(self.pts)

    def covers(self, until: float | None) -> bool:
        """Whether every frame up to `until` seconds (None: to the end) is listed."""
        return self.until is None or (until is not None and until <= self.until)

    def row(self, pts: int | None) -> int:
        """The row of a time stamp, -1 when the index has no such frame."""
        if pts is None:
            return -1
        i = int(np.searchsorted(self.pts, pts))
        return i if i < len(self.pts) and int(self.pts[i]) == pts else -1

    def keyframe_before(self, row: int) -> int:
        """The row of the last keyframe at or before `row`."""
        return int(self.keyframes[np.searchsorted(self.keyframes, row, side="right") - 1])


@contextmanager
def ffmpeg_errors() -> Iterator[list]:
    """Capture FFmpeg's log at error level (PyAV mutes it by default; its errors are evidence),
    without folding a message that repeats an earlier video's; yields the captured records."""
    import av

    previous, repeats = av.logging.get_level(), av.logging.get_skip_repeated()
    av.logging.set_level(av.logging.ERROR)
    av.logging.set_skip_repeated(False)
    try:
        with av.logging.Capture() as logs:
            yield logs
    finally:
        av.logging.set_level(previous)
        av.logging.set_skip_repeated(repeats)


def logged_errors(logs: list) -> list[str]:
    """The error-level messages among captured FFmpeg log records."""
    import av

    return [msg.strip() for level, _, msg in logs if level is not None and level <= av.logging.ERROR]


def packet_index(path: str, until: float | None = None) -> PacketIndex | None:
    """The video packets of a file (its first video stream) demuxed on a container of their own,
    up to the first packet decoded after `until` seconds (None: all); None when seeking could not
    be trusted to give the same frames as a decode from the start."""
    import av

    pts: list[int] = []
    keys: list[int] = []
    complete = True
    try:
        with ffmpeg_errors() as logs, av.open(path) as container:
            stream = container.streams.video[0]
            base = stream.time_base
            stop = None if until is None or not base else until / base  # in the stream's time base
            for packet in container.demux(stream):
                if stop is not None and packet.dts is not None and packet.dts > stop:
                    complete = False  # decode order: every frame shown before `until` came earlier
                    break
                if packet.size == 0 and packet.pts is None:
                    continue  # the flush packet PyAV adds at the end
                if packet.pts is None or packet.is_discard or packet.is_corrupt or packet.size == 0:
                    return None
                if not pts and not packet.is_keyframe:
                    return None  # a stream opening on a frame that needs an earlier one
                pts.append(int(packet.pts))
                if packet.is_keyframe:
                    keys.append(pts[-1])
    except (av.FFmpegError, OSError, IndexError):
        return None
    if not pts or logged_errors(logs) or base is None or not base.numerator:
        return None
    order = np.sort(np.asarray(pts, np.int64))
    if np.any(np.diff(order) <= 0):
        return None  # repeated time stamps: a rank would not name one frame
    rows = np.searchsorted(order, np.sort(np.asarray(keys, np.int64)))
    if rows[0] != 0:
        return None  # a frame shown before the first keyframe
    seconds = order.astype(np.float64) * base.numerator / base.denominator
    return PacketIndex(order, seconds, rows.astype(np.int64), None if complete else float(until))


def decode_wanted(container: Any, stream: Any, index: PacketIndex, rows: Sequence[int]) -> Iterator[tuple[int, Any]]:
    """(row, av.VideoFrame) for each wanted row, in order: a seek to the keyframe before the next
    wanted frame whenever that skips frames, then decoding forward. Raises SeekMismatch when a
    frame disagrees with the index (the frames already given were checked and are right)."""
    import av

    wanted = sorted(set(int(r) for r in rows))
    if wanted and not 0 <= wanted[0] <= wanted[-1] < len(index):
        raise ValueError(f"frame rows {wanted[0]}..{wanted[-1]} outside the index of {len(index)} frames")
    wanted_pts = set(index.pts[wanted].tolist())
    context = stream.codec_context
    i, pos = 0, -1  # next wanted, row of the last frame given by the decoder
    try:
        with ffmpeg_errors() as logs:
            while i < len(wanted):
                floor = index.keyframe_before(wanted[i])
                container.seek(int(index.pts[floor]), stream=stream, backward=True, any_frame=False)
                pos, reseek = -1, False  # -1: no frame since the seek
                for packet in container.demux(stream):
                    context.skip_frame = "DEFAULT" if packet.pts is None or packet.pts in wanted_pts else "NONREF"
                    for frame in packet.decode():
                        row = _checked_row(index, frame, pos, floor, wanted[i])
                        if row < 0:
                            continue  # a frame before the keyframe sought (an open GOP's leading frame)
                        pos = row
                        if row == wanted[i]:
                            yield row, frame
                            i += 1
                            if i == len(wanted):
                                return
                            reseek = index.keyframe_before(wanted[i]) > pos + 1
                    if reseek or logged_errors(logs):
                        break
                else:
                    raise SeekMismatch(f"the stream ended before frame {wanted[i]}")
                if logged_errors(logs):
                    raise SeekMismatch(f"the decoder reported an error: {logged_errors(logs)[0][:80]!r}")
    except av.FFmpegError as exc:
        raise SeekMismatch(f"decode error after a seek: {exc}") from None
    finally:
        context.skip_frame = "DEFAULT"


def _checked_row(index: PacketIndex, frame: Any, pos: int, floor: int, want: int) -> int:
    """The index row of a decoded frame (-1: before the keyframe sought, ignored), or SeekMismatch."""
    row = index.row(frame.pts)
    if row < 0 or frame.time != index.seconds[row]:
        raise SeekMismatch(f"a frame at pts {frame.pts} is not in the packet index")
    if pos < 0 and row < floor:
        return -1
    if frame.is_corrupt:
        raise SeekMismatch(f"frame {row} decoded as corrupt after a seek")
    if pos < 0 and (row > want or index.keyframe_before(row) != row):
        raise SeekMismatch(f"the seek landed on frame {row}, not on a keyframe at or before frame {want}")
    if row <= pos or row > want:
        raise SeekMismatch(f"frame {row} came after frame {pos} while frame {want} was due")
    return row
