"""The clip sampling rule (N evenly spaced frames over [start, end], or a fixed fps) and the sampler.

The rule is recorded with every clip (SamplingRule.to_dict). Each slot has a target time; the
sampler decodes the clip once through core.video (the one reader) and keeps, per slot, the real
frame whose time stamp is nearest its target. A slot with no decoded frame within one frame
interval of its target (the stream ends early, a gap) stays empty: it is masked, never filled.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.video import VideoError, VideoReader
from core.video_seek import PacketIndex, SeekMismatch

MODES = ("even", "fps")
CLIP_FRAMES = (16, 30)  # the two N of the seed projects (any N >= 1 works)
MAX_SLOTS = 4096  # a rule asking for more frames than this is refused


@dataclass(frozen=True)
class SamplingRule:
    """mode "even": `frames` slots evenly spaced over [start, end] (each at the centre of its
    1/N of the span); mode "fps": one slot every 1/fps seconds from start, at most max_frames."""

    mode: str = "even"
    frames: int = 16  # N for mode "even"
    fps: float | None = None  # slots per second for mode "fps"
    max_frames: int | None = None  # mode "fps": cap on the number of slots (None = MAX_SLOTS)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"sampling mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.mode == "even" and not (type(self.frames) is int and 1 <= self.frames <= MAX_SLOTS):
            raise ValueError(f"frames must be a whole number in 1..{MAX_SLOTS}, got {self.frames!r}")
        if self.mode == "fps" and not (self.fps and 0 < float(self.fps) <= 1000):
            raise ValueError(f"fps must be a number in (0, 1000], got {self.fps!r}")

    @classmethod
    def even(cls, frames: int = 16) -> SamplingRule:
        return cls("even", frames=frames)

    @classmethod
    def at_fps(cls, fps: float, max_frames: int | None = None) -> SamplingRule:
        return cls("fps", fps=float(fps), max_frames=max_frames)

    def times(self, start: float, end: float) -> np.ndarray:
        """Target time of each slot, in seconds on the video's own time line."""
        if not end > start:
            raise ValueError(f"clip end {end:.3f} s must be after its start {start:.3f} s")
        if self.mode == "even":
            step = (end - start) / self.frames
            return start + (np.arange(self.frames) + 0.5) * step
        cap = min(self.max_frames or MAX_SLOTS, MAX_SLOTS)
        n = max(1, min(cap, int(np.floor((end - start) * self.fps + 1e-9))))
        return start + np.arange(n) / self.fps

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "frames": self.frames, "fps": self.fps, "max_frames": self.max_frames}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SamplingRule:
        return cls(d.get("mode", "even"), frames=int(d.get("frames", 16)), fps=d.get("fps"),
                   max_frames=d.get("max_frames"))


@dataclass
class SampledClip:
    """The frames of one clip, one slot per target time; empty slots have image None."""

    path: str
    rule: SamplingRule
    start: float
    end: float
    targets: np.ndarray  # (N,) target seconds
    frame_index: np.ndarray  # (N,) decode position of the frame used, -1 = empty slot
    seconds: np.ndarray  # (N,) time stamp of the frame used, NaN = empty slot
    images: list[np.ndarray | None]  # BGR upright frames (one array shared by slots that share a frame)
    damage: str | None = None  # what core.video reported (the frames before it are kept)

    @property
    def present(self) -> np.ndarray:
        """(N,) bool: the slot holds a real frame."""
        return self.frame_index >= 0

    def __len__(self) -> int:
        return len(self.targets)


def _clip_end(reader: VideoReader, end: float | None) -> float:
    """The requested end, else the declared duration, else packets counted / average rate."""
    if end is not None:
        return float(end)
    if reader.info.declared_seconds:
        return float(reader.info.declared_seconds)
    if reader.info.fps:
        return reader.count_frames() / reader.info.fps
    raise VideoError(f"{reader.path}: the video declares neither a duration nor a frame rate; "
                     "give the clip's end time")


def sample_clip(path: str | Path, rule: SamplingRule = SamplingRule(), *, start: float = 0.0,
                end: float | None = None) -> SampledClip:
    """Decode [start, end] of a video once and fill each slot of `rule` with the nearest frame.

    end None: the declared duration. Raises VideoError when the video cannot be opened or holds
    no frame at all in the range; damage after some frames is kept in .damage (those slots empty).
    """
    clip = sample_spans(path, rule, [(start, end)])[0]
    if isinstance(clip, VideoError):
        raise clip
    return clip


class _Span:
    """The slots of one clip while the video is decoded."""

    def __init__(self, targets: np.ndarray):
        n = len(targets)
        self.targets, self.best = targets, np.full(n, np.inf)
        self.index, self.seconds = np.full(n, -1, np.int64), np.full(n, np.nan)
        self.images: list[Any] = [None] * n  # av frames while decoding, then BGR arrays

    def offer(self, index: int, t: float, frame: Any) -> None:
        """Keep the frame (decoded, converted later) in the slots it is nearer to than their best so far."""
        dist = np.abs(self.targets - t)
        for i in np.flatnonzero(dist < self.best):
            self.best[i], self.index[i], self.seconds[i], self.images[i] = dist[i], index, t, frame

    def drop_far(self, tolerance: float) -> None:
        for i in np.flatnonzero(self.best > tolerance):  # nearest frame too far: the slot stays empty
            self.index[i], self.seconds[i], self.images[i] = -1, np.nan, None


def sample_spans(path: str | Path, rule: SamplingRule, spans: list[tuple[float, float | None]], *,
                 seek: bool = True) -> list[SampledClip | VideoError]:
    """sample_clip for several (start, end) ranges of one video in a single decoding pass (sliding
    windows, the segments of one recording); a range without any frame gets its VideoError in
    place of a clip. Raises VideoError when the video cannot be opened.

    seek (default): the slots' nearest frames are chosen on the packet index and only those are
    decoded, each reached by a keyframe seek (core.video_seek): the same frames, indices and
    times as decoding from the start, which is what happens when the file does not allow it
    (or seek=False). A decoder error in a part of the file a seek skipped goes unseen there."""
    with VideoReader(path) as reader:
        ends = [_clip_end(reader, end) for _, end in spans]
        slots = [_Span(rule.times(float(start), end)) for (start, _), end in zip(spans, ends)]
        step = 1.0 / reader.info.fps if reader.info.fps else None
        last = max(float(sp.targets[-1]) for sp in slots)
        index = reader.packet_index(until=last + 2 * step + 1.0) if seek and step else None
        if index is not None:
            try:
                _sample_indexed(reader, index, slots, step)
            except SeekMismatch:  # the stream did not decode as indexed: from the start, as before
                reader.reopen()
                slots, index = [_Span(sp.targets) for sp in slots], None
        if index is None:
            step = _sample_decoded(reader, slots, step)
        damage = reader.damage
    out: list[SampledClip | VideoError] = []
    for (start, _), end, sp in zip(spans, ends, slots):
        sp.drop_far((step or 0.04) * 1.01)
        if not (sp.index >= 0).any():
            out.append(VideoError(f"{path}: no frame decoded between {start:.2f} s and {end:.2f} s"
                                  + (f" ({damage})" if damage else "")))
        else:
            out.append(SampledClip(str(path), rule, float(start), end, sp.targets, sp.index, sp.seconds,
                                   sp.images, damage))
    return out


def _sample_decoded(reader: VideoReader, slots: list[_Span], step: float | None) -> float | None:
    """Offer every decoded frame from the start to the slots (only the frames kept are converted);
    the frame step used (estimated from the time stamps when the rate is unknown)."""
    last = max(float(sp.targets[-1]) for sp in slots)
    last_t = None
    for index, seconds, frame in reader._decoded():
        t = seconds if seconds is not None else index * (step or 0.04)
        if last_t is not None and step is None:
            step = max(t - last_t, 1e-3)
        last_t = t
        if t > last + (step or 0.04):
            break  # past the last slot: no later frame can be nearer
        for sp in slots:
            if sp.targets[0] - (step or 0.04) <= t <= sp.targets[-1] + (step or 0.04):
                sp.offer(index, t, frame)
    images: dict[int, np.ndarray] = {}  # each kept frame converted once; slots sharing it share the array
    for sp in slots:
        for slot, (i, frame) in enumerate(zip(sp.index, sp.images)):
            if frame is not None:
                if int(i) not in images:
                    images[int(i)] = reader._image(frame)
                sp.images[slot] = images[int(i)]
    return step


def _sample_indexed(reader: VideoReader, index: PacketIndex, slots: list[_Span], step: float) -> None:
    """Choose each slot's nearest frame on the packet index exactly as _sample_decoded would among
    the decoded frames, then decode just those frames (keyframe seeks)."""
    for sp in slots:
        near = np.flatnonzero((index.seconds >= sp.targets[0] - step) & (index.seconds <= sp.targets[-1] + step))
        if len(near):
            dist = np.abs(sp.targets[:, None] - index.seconds[near][None, :])
            best = np.argmin(dist, axis=1)  # the first of equally near frames, as in decode order
            sp.index[:] = near[best]
            sp.best[:] = dist[np.arange(len(best)), best]
            sp.seconds[:] = index.seconds[sp.index]
    rows = sorted({int(i) for sp in slots for i in sp.index if i >= 0})
    images = {f.index: f.image for f in reader.frames_at(rows)} if rows else {}
    for sp in slots:
        sp.images = [images[int(i)] if i >= 0 else None for i in sp.index]
    if index.until is None and index.seconds[-1] <= max(float(sp.targets[-1]) for sp in slots) + step:
        reader.end_damage(float(index.seconds[-1]))  # a decode from the start would have reached the end
