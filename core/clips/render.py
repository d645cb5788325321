"""The annotated video of a clip prediction: every source frame (core.video, the one reader) with
the window's prediction drawn by core.overlay (box of the tracked face, emotion label, V/A inset,
stress gauge, probability bars, traits as text), encoded H.264 with PyAV; the source's audio
stream is copied packet for packet (transcoded to AAC only when MP4 cannot hold its codec)."""
from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from core.clips.predict import ClipWindow
from core.overlay import OverlayOptions, _text, draw_overlays, traits_text
from core.video import VideoReader

MP4_AUDIO = {"aac", "mp3", "mp3float", "ac3", "eac3", "alac", "opus", "flac"}  # decoder names copied into .mp4


def window_at(windows: Sequence[ClipWindow], t: float) -> ClipWindow | None:
    """The window whose centre is nearest t among those covering t (else the nearest one)."""
    if not windows:
        return None
    covering = [w for w in windows if w.start - 1e-6 <= t <= w.end + 1e-6] or list(windows)
    return min(covering, key=lambda w: abs((w.start + w.end) / 2 - t))


def annotate(frame: np.ndarray, window: ClipWindow | None, t: float, options: OverlayOptions) -> np.ndarray:
    """Draw the window's prediction on a frame at time t (the box where the face was tracked)."""
    if window is None or window.prediction is None:
        return frame
    pred = dataclasses.replace(window.prediction, bbox=window.box_at(t))
    draw_overlays(frame, [pred], options)
    traits = traits_text(pred)
    if traits:
        _text(frame, traits, (8, 20), scale=0.45)
    return frame


def render_video(source: str | Path, windows: Sequence[ClipWindow], out: str | Path, *,
                 options: OverlayOptions = OverlayOptions(bars=True), crf: int = 23) -> dict[str, Any]:
    """Write `out` (mp4) atomically; {"path", "frames", "audio": codec copied or None, "seconds"}."""
    import av

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".mp4", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    frames = 0
    try:
        with VideoReader(source) as reader, av.open(str(source)) as src_audio, av.open(str(tmp), "w") as dst:
            fps = Fraction(reader.info.fps).limit_denominator(1001) if reader.info.fps else Fraction(25)
            vstream = dst.add_stream("libx264", rate=fps)
            vstream.pix_fmt = "yuv420p"
            vstream.options = {"preset": "veryfast", "crf": str(crf)}
            audio_in = src_audio.streams.audio[0] if src_audio.streams.audio else None
            audio_out, codec = _audio_stream(dst, audio_in)
            for frame in reader.frames():
                if frames == 0:
                    h, w = frame.image.shape[:2]
                    vstream.width, vstream.height = w - w % 2, h - h % 2
                t = frame.seconds if frame.seconds is not None else frames / float(fps)
                img = annotate(frame.image.copy(), window_at(windows, t), t, options)
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:vstream.height, :vstream.width]),
                                                format="bgr24")
                vf.pts = frames
                vf.time_base = 1 / fps
                for packet in vstream.encode(vf):
                    dst.mux(packet)
                frames += 1
            for packet in vstream.encode():
                dst.mux(packet)
            if audio_out is not None:
                _copy_audio(src_audio, audio_in, dst, audio_out, codec)
            damage = reader.damage
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return {"path": str(out), "frames": frames, "audio": codec, "seconds": round(frames / float(fps), 3),
            **({"damage": damage} if damage else {})}


def _audio_stream(dst: Any, audio_in: Any) -> tuple[Any, str | None]:
    """The output audio stream: a copy of the source's (same codec) or AAC; (None, None) without audio."""
    if audio_in is None:
        return None, None
    name = audio_in.codec_context.name
    if name in MP4_AUDIO:
        return dst.add_stream_from_template(audio_in), {"mp3float": "mp3"}.get(name, name)
    stream = dst.add_stream("aac", rate=audio_in.codec_context.sample_rate or 48000)
    return stream, "aac"


def _copy_audio(src: Any, audio_in: Any, dst: Any, audio_out: Any, codec: str | None) -> None:
    """Every audio packet of the source into dst (remux), or decoded and re-encoded to AAC."""
    import av

    copy = audio_in.codec_context.name in MP4_AUDIO
    src.seek(0)
    try:
        for packet in src.demux(audio_in):
            if copy:
                if packet.dts is None:
                    continue
                packet.stream = audio_out
                dst.mux(packet)
            else:
                for frame in packet.decode():
                    frame.pts = None
                    for out_packet in audio_out.encode(frame):
                        dst.mux(out_packet)
        if not copy:
            for out_packet in audio_out.encode():
                dst.mux(out_packet)
    except av.FFmpegError:
        pass  # a damaged audio tail: the packets before it are kept
