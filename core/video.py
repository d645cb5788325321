"""The one video reader (PyAV): frames as upright BGR arrays with their real time stamps.

Container metadata is never trusted for allocation or indexing: frame counts come from the
packets actually present, sampling follows each frame's own time stamp (variable frame rate),
the display rotation of phone videos is applied, a declared resolution above MAX_PIXELS is
refused before decoding, and a decode error or an early end of stream is reported as damage
(`VideoReader.damage`) instead of passing as a shorter video. Clips and single frames deep in a
video are reached by a keyframe seek (core.video_seek: the same frames, indices and time stamps
as decoding from the start, which remains the fallback); only the frames kept are converted.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.faces.io import MAX_PIXELS
from core.video_seek import (
    PacketIndex,
    SeekMismatch,
    decode_wanted,
    ffmpeg_errors,
    logged_errors,
    packet_index,
)

DEFAULT_FPS = 2.0  # frames sampled per second of video, everywhere (import, predict, Upload)
VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}  # files read as videos
END_SLACK_S = 0.5  # a stream may end this much before its declared duration (plus 2 frames)


class VideoError(ValueError):
    """A video that cannot be opened or decoded at all; the message names it and the cause."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int  # as stored; frames come out rotated upright
    fps: float  # average rate (0 when unknown): for display only, never for indexing
    declared_frames: int  # what the container claims (may lie)
    declared_seconds: float | None
    rotation: int  # degrees the frames are turned to be upright


@dataclass(frozen=True)
class Frame:
    index: int  # position in decode order (0-based), counted, not declared
    seconds: float | None
    image: np.ndarray  # BGR, upright


def _av():
    import av

    return av


class VideoReader:
    """Open a video for reading; `frames()` / `sample()` decode it once, front to back."""

    def __init__(self, path: str | Path, *, max_pixels: int = MAX_PIXELS):
        av = _av()
        self.path = str(path)
        self.damage: str | None = None
        self.decoded = 0
        try:
            self._container = av.open(self.path)
        except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise VideoError(f"{path}: cannot open the video ({_why(exc)})") from None
        streams = self._container.streams.video
        if not streams:
            self.close()
            raise VideoError(f"{path}: no video stream (an audio-only file?)")
        self._stream = stream = streams[0]
        width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
        if width * height > max_pixels:
            self.close()
            raise VideoError(f"{path}: declared resolution {width}x{height} is too large "
                             f"(more than {max_pixels:,} pixels)")
        rate = stream.average_rate or stream.guessed_rate
        seconds = None
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif self._container.duration and len(self._container.streams) == 1:  # else audio may be longer
            seconds = self._container.duration / 1_000_000
        self._index: PacketIndex | None | bool = False  # False: not built yet
        self._reformatter: Any = None
        self.info = VideoInfo(width, height, float(rate) if rate else 0.0, int(stream.frames or 0),
                              seconds, 0)
        self.max_pixels = max_pixels

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None

    def count_frames(self) -> int:
        """Video packets actually in the file (demuxed, not decoded); the reader rewinds."""
        av = _av()
        n = 0
        try:
            for packet in self._container.demux(self._stream):
                n += bool(packet.size)
        except av.FFmpegError:
            pass  # damage shows when the frames are decoded
        self._container.seek(0, stream=self._stream)
        return n

    def frames(self) -> Iterator[Frame]:
        """Every frame, upright, in order; stops at a decode error. Damage (an error raised or
        logged by the decoder, fewer frames or seconds than declared) is recorded in `damage`."""
        for index, seconds, frame in self._decoded():
            yield Frame(index, seconds, self._image(frame))

    def _decoded(self) -> Iterator[tuple[int, float | None, Any]]:
        """(decode position, seconds, av.VideoFrame) of every frame from the start, not yet
        converted (a sampler converts only the frames it keeps); damage as in frames()."""
        av = _av()
        last = None
        with ffmpeg_errors() as logs:
            try:
                for frame in self._container.decode(self._stream):
                    if frame.width * frame.height > self.max_pixels:
                        self.damage = f"frame {self.decoded} is {frame.width}x{frame.height}, too large"
                        return
                    seconds = frame.time if frame.time is not None else (
                        self.decoded / self.info.fps if self.info.fps else None)
                    last = seconds
                    yield self.decoded, seconds, frame
                    self.decoded += 1
            except av.FFmpegError as exc:
                where = f"after frame {self.decoded}" + (f" ({last:.2f} s)" if last is not None else "")
                self.damage = f"corrupt or truncated stream {where}: {_why(exc)}"
                return
        errors = logged_errors(logs)
        if errors:
            self.damage = f"corrupt stream: the decoder reported {len(errors)} error(s), e.g. {errors[0][:80]!r}"
        else:
            self._check_end(last)

    def _image(self, frame: Any) -> np.ndarray:
        """The decoded frame as an upright BGR array (one scaler context for the whole video)."""
        if self._reformatter is None:
            from av.video.reformatter import VideoReformatter

            self._reformatter = VideoReformatter()
        return _upright(self._reformatter.reformat(frame, format="bgr24").to_ndarray(), frame.rotation)

    def packet_index(self, until: float | None = None) -> PacketIndex | None:
        """The file's packet index for seeking (core.video_seek) listing at least every frame up
        to `until` seconds (None: all); None: seeking is not trusted for this file (every read
        decodes from the start)."""
        if self._index is False or (self._index is not None and not self._index.covers(until)):
            self._index = _index_of(self.path, until)
        return self._index

    def frames_at(self, rows: Sequence[int]) -> Iterator[Frame]:
        """The frames at these decode positions (rows of packet_index(), which must not be None),
        in order, each reached by a keyframe seek: the same index, time and pixels as frames()
        gives them. Raises SeekMismatch (then reopen() and decode from the start) when the stream
        does not decode as its index promised."""
        index = self._index if isinstance(self._index, PacketIndex) else self.packet_index()
        if index is None:
            raise SeekMismatch("no packet index")
        for row, frame in decode_wanted(self._container, self._stream, index, rows):
            if frame.width * frame.height > self.max_pixels:
                raise SeekMismatch(f"frame {row} is {frame.width}x{frame.height}, too large")
            yield Frame(row, frame.time, self._image(frame))

    def reopen(self) -> None:
        """Open the file afresh (after a seek that did not work out): the next read starts at the beginning."""
        av = _av()
        self.close()
        self._container = av.open(self.path)
        self._stream = self._container.streams.video[0]
        self.decoded, self.damage = 0, None

    def end_damage(self, last: float) -> None:
        """What frames() would report on reaching the stream's end at `last` seconds without a
        decoder error (the seeking path read the end from the packet index)."""
        decoded, self.decoded = self.decoded, max(self.decoded, 1)
        self._check_end(last)
        self.decoded = decoded

    def _check_end(self, last: float | None) -> None:
        # not the declared frame count: edit lists legitimately drop packets' frames (a phone clip
        # declaring 98 frames shows 95); a cut file's demuxer logs "partial file" (caught above)
        declared = self.info.declared_seconds
        if self.decoded == 0:
            self.damage = "no frame could be decoded"
        elif declared and last is not None and self.info.fps:
            if last + 2 / self.info.fps + END_SLACK_S < declared:
                self.damage = (f"truncated: the stream ends at {last:.2f} s of the declared "
                               f"{declared:.2f} s")

    def sample(self, *, fps: float | None = DEFAULT_FPS, frames: int | None = None) -> Iterator[Frame]:
        """`frames` evenly spaced frames, else `fps` per second by time stamp (default 2)."""
        if frames:
            total = self.count_frames()
            if total == 0:
                self.damage = "no frame could be decoded"
                return
            wanted = set(np.linspace(0, total - 1, num=min(frames, total)).round().astype(int).tolist())
            yield from (Frame(i, t, self._image(f)) for i, t, f in self._decoded() if i in wanted)
            return
        step = 1.0 / (fps or DEFAULT_FPS)
        next_t = 0.0
        for i, seconds, f in self._decoded():  # every frame decoded (damage is seen), the kept ones converted
            t = seconds if seconds is not None else i * step
            if t + 1e-6 >= next_t:
                yield Frame(i, seconds, self._image(f))
                next_t = (math.floor(t / step + 1e-6) + 1) * step


_INDEXES: OrderedDict[str, tuple[tuple[int, int], PacketIndex | None]] = OrderedDict()
_INDEX_LOCK = threading.Lock()  # readers on several threads (jobs, the app) share the cache
INDEX_CACHE = 8  # files whose packet index is kept (a sliding window's groups read one video many times)


def _index_of(path: str, until: float | None) -> PacketIndex | None:
    """packet_index of a file as it is now, reused while the file's size and time are unchanged
    and it lists the frames asked for (a partial index is extended by building it again)."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    key = (st.st_size, st.st_mtime_ns)
    with _INDEX_LOCK:
        hit = _INDEXES.get(path)
    if hit is not None and hit[0] == key and (hit[1] is None or hit[1].covers(until)):
        return hit[1]
    index = packet_index(path, until)
    with _INDEX_LOCK:
        _INDEXES[path] = (key, index)
        _INDEXES.move_to_end(path)
        while len(_INDEXES) > INDEX_CACHE:
            _INDEXES.popitem(last=False)
    return index


def _upright(image: np.ndarray, rotation: int | float | None) -> np.ndarray:
    """Turn a decoded frame by its display rotation (degrees counter-clockwise, as FFmpeg's
    display matrix reports it) so it shows as the camera's owner saw it."""
    k = int(round((rotation or 0) / 90)) % 4
    return np.ascontiguousarray(np.rot90(image, k=k)) if k else image


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '")[0] if text else type(exc).__name__


def iter_video_frames(path: str | Path, *, fps: float | None = DEFAULT_FPS, frames: int | None = None
                      ) -> Iterator[tuple[int, float | None, np.ndarray]]:
    """(frame index, seconds, BGR frame) for `frames` evenly spaced frames, or `fps` per second.

    Raises VideoError when the file cannot be opened, no frame decodes, or the stream is
    damaged (after yielding the frames before the damage).
    """
    with VideoReader(path) as reader:
        for f in reader.sample(fps=fps, frames=frames):
            yield f.index, f.seconds, f.image
        if reader.damage:
            raise VideoError(f"{path}: {reader.damage}")


def read_frame(path: str | Path, index: int) -> np.ndarray | None:
    """The frame at decode position `index` (None past the end or on damage before it), reached
    by a keyframe seek when the file allows it."""
    try:
        with VideoReader(path) as reader:
            fps = reader.info.fps
            table = reader.packet_index(until=(index + 1) / fps + 2.0 if fps else None)
            if table is not None and index >= len(table) and table.until is not None:
                table = reader.packet_index()  # a variable frame rate: the frame is later than its number says
            if table is not None and 0 <= index < len(table):
                try:
                    return next(reader.frames_at([index])).image
                except SeekMismatch:
                    reader.reopen()
            for f in reader.frames():
                if f.index == index:
                    return f.image
    except VideoError:
        return None
    return None
