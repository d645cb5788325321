"""A clip shown to a person: its N aligned frame crops with their times (a masked slot is a grey
"no face" tile, never a made-up face) and the source segment a player plays (path, start/end),
cut to an exact H.264/AAC mp4 through core.video when a browser cannot play the source itself."""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.paths import data_file
from core.store.clips import ClipInfo, load_array
from core.store.models_clips import Clip

NO_FACE = "no face"
BROWSER_EXTS = {".mp4", ".m4v", ".webm"}  # containers a browser's <video> plays as they are
DIRECT_MAX_BYTES = 100 * 1024**2  # a player loads the whole file: larger sources are cut
MAX_CUT_S = 120.0  # a cut for playback holds at most this much of the segment
CUT_HEIGHT = 480  # a cut is scaled down to at most this height
CUT_AUDIO_RATE = 48000


class StripError(ValueError):
    """A clip whose stored crop stack is missing or does not match its slots; names the file."""


@dataclass(frozen=True)
class StripFrame:
    slot: int
    seconds: float  # the slot's time on the video's own time line (the sampling rule's target)
    frame_index: int  # the decoded frame used, -1 = none
    masked: bool  # True: the clip's face is not in this slot (image is the grey tile)
    image: np.ndarray  # BGR aligned crop, or the "no face" tile


@dataclass(frozen=True)
class ClipSegment:
    """What a player plays: the source video's [start, end] (seconds) and whether it has audio."""

    sample_id: int
    path: Path | None  # None: the source video is missing (why says so)
    start: float
    end: float
    has_audio: bool
    why: str | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def direct(self) -> bool:
        """A browser plays the file as it is (a web container, small enough to hand over whole)."""
        return (self.path is not None and self.path.suffix.lower() in BROWSER_EXTS
                and self.path.stat().st_size <= DIRECT_MAX_BYTES)

    def player_range(self) -> tuple[int, int]:
        """(start, end) in the whole seconds a player takes: the segment's start rounded down and
        its end rounded up, so the range never cuts the segment short."""
        return int(math.floor(self.start + 1e-6)), max(int(math.ceil(self.end - 1e-6)), int(self.start) + 1)


@dataclass(frozen=True)
class ClipSummary:
    frames: int
    seconds: float
    masked: int  # slots without the clip's face
    has_audio: bool


def slot_times(info: ClipInfo) -> np.ndarray:
    """(N,) time of each slot: the recorded sampling rule's targets over [start, end]."""
    n = info.frames
    try:
        from core.clips.sampling import SamplingRule  # with OpenCV: loaded when a clip opens

        times = SamplingRule.from_dict(info.rule).times(info.start, info.end)
    except (ValueError, TypeError):
        times = np.zeros(0)
    if len(times) != n:  # a rule that no longer matches the slots: spread them evenly
        step = (info.end - info.start) / max(n, 1)
        times = info.start + (np.arange(n) + 0.5) * step
    return times.astype(float)


def no_face_tile(side: int) -> np.ndarray:
    """A grey square with "no face" written across it and a thin cross (BGR uint8)."""
    import cv2

    tile = np.full((side, side, 3), 128, np.uint8)
    cv2.line(tile, (0, 0), (side - 1, side - 1), (150, 150, 150), max(1, side // 64), cv2.LINE_AA)
    cv2.line(tile, (0, side - 1), (side - 1, 0), (150, 150, 150), max(1, side // 64), cv2.LINE_AA)
    scale = side / 160
    thick = max(1, side // 56)
    (w, h), _ = cv2.getTextSize(NO_FACE, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    org = ((side - w) // 2, (side + h) // 2)
    cv2.putText(tile, NO_FACE, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    return tile


def clip_strip(info: ClipInfo) -> list[StripFrame]:
    """The clip's N slots in order: the stored aligned crop where the face is, the grey tile where
    it is masked. StripError when the crop stack is missing or its shape disagrees with the slots."""
    try:
        stack = load_array(info.crops_path)
    except (OSError, ValueError) as exc:
        raise StripError(f"clip of sample {info.sample_id}: crop stack {info.crops_path} cannot be read "
                         f"({exc.__class__.__name__}: {exc})") from None
    n = info.frames
    if stack.ndim != 4 or stack.shape[0] != n or stack.shape[3] != 3 or stack.dtype != np.uint8:
        raise StripError(f"clip of sample {info.sample_id}: crop stack {info.crops_path} holds "
                         f"{stack.shape} {stack.dtype}, expected ({n}, S, S, 3) uint8 for its {n} slots")
    tile = no_face_tile(int(stack.shape[1]))
    times = slot_times(info)
    return [StripFrame(i, float(times[i]), int(info.frame_indices[i]), not info.mask[i],
                       stack[i] if info.mask[i] else tile) for i in range(n)]


def clip_segment(info: ClipInfo) -> ClipSegment:
    """The clip's source segment for playback; path None (with why) when the video is gone."""
    path = data_file(info.media_path) if info.media_path else None
    why = None if path is not None else (
        "the clip has no source video stored" if not info.media_path
        else f"source video {info.media_path} is missing from the data dir")
    return ClipSegment(info.sample_id, path, float(info.start), float(info.end), info.has_audio, why)


def clip_summaries(session: Session, sample_ids: Sequence[int]) -> dict[int, ClipSummary]:
    """Frames, length, masked slots and audio of those of these samples that are clips."""
    if not sample_ids:
        return {}
    rows = session.execute(select(Clip.sample_id, Clip.start, Clip.end, Clip.mask, Clip.has_audio)
                           .where(Clip.sample_id.in_(list(sample_ids))))
    return {sid: ClipSummary(len(mask), float(end) - float(start), sum(not m for m in mask), bool(audio))
            for sid, start, end, mask, audio in rows}


def segment_mp4(segment: ClipSegment) -> bytes:
    """[start, end] of the source (at most MAX_CUT_S) as an mp4 starting at 0: H.264 frames decoded
    by core.video (scaled to at most CUT_HEIGHT), the audio as AAC when the source has any."""
    import av

    from core.video import VideoReader  # OpenCV: only when a cut is made

    if segment.path is None:
        raise StripError(segment.why or "no source video")
    end = min(segment.end, segment.start + MAX_CUT_S)
    buf = io.BytesIO()
    frames = 0
    with VideoReader(segment.path) as reader, av.open(buf, "w", format="mp4") as dst:
        fps = Fraction(reader.info.fps).limit_denominator(1001) if reader.info.fps else Fraction(25)
        vstream = dst.add_stream("libx264", rate=fps)
        vstream.pix_fmt = "yuv420p"
        vstream.options = {"preset": "ultrafast", "crf": "26"}
        samples = _segment_audio(segment, end)
        astream = dst.add_stream("aac", rate=CUT_AUDIO_RATE) if samples is not None else None
        if astream is not None:
            astream.layout = "mono"
        for frame in reader.frames():
            t = frame.seconds if frame.seconds is not None else frame.index / float(fps)
            if t < segment.start - 1e-6:
                continue
            if t >= end - 1e-6:  # [start, end): the frame at end belongs to what follows
                break
            img = _fit(frame.image)
            if frames == 0:
                vstream.height, vstream.width = img.shape[:2]
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:vstream.height, :vstream.width]),
                                            format="bgr24")
            vf.pts, vf.time_base = frames, 1 / fps
            dst.mux(vstream.encode(vf))
            frames += 1
        if frames == 0:
            raise StripError(f"{segment.path.name}: no frame decoded between {segment.start:.2f} s and {end:.2f} s")
        dst.mux(vstream.encode())
        if astream is not None:
            _encode_audio(dst, astream, samples)
    return buf.getvalue()


def _fit(image: np.ndarray) -> np.ndarray:
    """The frame scaled to at most CUT_HEIGHT rows, both sides even (H.264 4:2:0)."""
    import cv2

    h, w = image.shape[:2]
    if h > CUT_HEIGHT:
        w, h = int(round(w * CUT_HEIGHT / h)), CUT_HEIGHT
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return image[:h - h % 2, :w - w % 2]


def _segment_audio(segment: ClipSegment, end: float) -> np.ndarray | None:
    """Mono samples of the segment at CUT_AUDIO_RATE, or None (no track, nothing decodable)."""
    from core.audio import decode_audio

    if not segment.has_audio:
        return None
    samples, _ = decode_audio(segment.path, start=segment.start, end=end, sample_rate=CUT_AUDIO_RATE)
    return samples


def _encode_audio(dst, stream, samples: np.ndarray) -> None:
    import av

    chunk = 1024
    for k in range(0, len(samples), chunk):
        part = np.ascontiguousarray(samples[k:k + chunk][None, :])
        frame = av.AudioFrame.from_ndarray(part, format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = CUT_AUDIO_RATE, k, Fraction(1, CUT_AUDIO_RATE)
        dst.mux(stream.encode(frame))
    dst.mux(stream.encode())
