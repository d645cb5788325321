"""Generated test clips: real asset face photos moving over a 640x360 frame, written with PyAV,
with a synthetic tone track (or none); chosen frames show no face."""
from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tests.conftest import ASSETS

FACES = ("0-f15-hao-ph.jpg", "0-f1-su-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg")
SIZE = (640, 360)


def face_image(name: str = FACES[0], side: int = 220) -> np.ndarray:
    image = cv2.imread(str(ASSETS / name))
    assert image is not None, name
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def frame_with_face(face: np.ndarray | None, i: int, *, small: np.ndarray | None = None) -> np.ndarray:
    """A gray textured background with the face drifting slowly right (and an optional small second
    face in the corner); no face when face is None."""
    w, h = SIZE
    frame = np.full((h, w, 3), 90, np.uint8)
    frame[:, :, 1] = 100 + (np.arange(w)[None, :] // 40 % 2) * 10
    if face is not None:
        side = face.shape[0]
        x, y = 150 + 3 * i, (h - side) // 2
        frame[y:y + side, x:x + side] = face
    if small is not None:
        frame[10:10 + small.shape[0], w - 10 - small.shape[1]:w - 10] = small
    return frame


def tone(seconds: float, rate: int, hz: float, *, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def write_clip(path: Path, *, frames: int = 48, fps: int = 24, face: str | None = FACES[0],
               faceless: Iterable[int] = (), audio_hz: float | None = 440.0, audio_rate: int = 16000,
               small_face: str | None = None, small_side: int = 120, codec: str = "libx264") -> Path:
    """Write an mp4 (or .avi with codec mpeg4) of `frames` frames; audio_hz None: no audio stream."""
    faceless = set(faceless)
    big = face_image(face) if face else None
    small = face_image(small_face, small_side) if small_face else None
    container = av.open(str(path), mode="w")
    video = container.add_stream(codec, rate=fps)
    video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
    if codec == "libx264":
        video.options = {"preset": "ultrafast", "crf": "18"}
    astream = None
    if audio_hz is not None:
        astream = container.add_stream("aac", rate=audio_rate)
        astream.layout = "mono"
    for i in range(frames):
        img = frame_with_face(None if i in faceless else big, i, small=small)
        for packet in video.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
            container.mux(packet)
    for packet in video.encode():
        container.mux(packet)
    if astream is not None:
        samples = tone(frames / fps, audio_rate, audio_hz)
        chunk = 1024
        for k in range(0, len(samples), chunk):
            part = samples[k:k + chunk][None, :]
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = audio_rate, k, Fraction(1, audio_rate)
            for packet in astream.encode(af):
                container.mux(packet)
        for packet in astream.encode():
            container.mux(packet)
    container.close()
    return path
