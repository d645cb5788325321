"""Generated videos that lie or are damaged: cut, corrupted, lying AVI headers, audio only,
variable frame rate, phone rotation (ffmpeg CLI and PyAV)."""
from __future__ import annotations

import shutil
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from core.assets import asset_path

FFMPEG = shutil.which("ffmpeg")


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True, capture_output=True)


def ffmpeg_errors(path: Path) -> str:
    """What the ffmpeg CLI reports decoding the video stream (the oracle for corrupt bytes)."""
    out = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-map", "0:v", "-f", "null", "-"],
                         capture_output=True, text=True)
    return out.stderr.strip()


def face_mp4(folder: Path) -> Path:
    """The real face clip with its index at the front (a cut file still opens, as a phone's does)."""
    path = folder / "face.mp4"
    if not path.exists():
        ffmpeg("-i", str(asset_path("single_face.mp4")), "-c", "copy", "-movflags", "+faststart", str(path))
    return path


def mjpeg_avi(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), seed: int = 0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    rng = np.random.default_rng(seed)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    writer.release()
    return path


def patch_avi(path: Path, *, total_frames: int | None = None, size: tuple[int, int] | None = None) -> Path:
    """Rewrite an AVI's headers: the declared frame count (avih and strh) and/or resolution."""
    data = bytearray(path.read_bytes())
    avih = data.index(b"avih") + 8
    strh = data.index(b"strh") + 8
    strf = data.index(b"strf") + 8
    if total_frames is not None:
        data[avih + 16:avih + 20] = struct.pack("<I", total_frames)
        data[strh + 32:strh + 36] = struct.pack("<I", total_frames)
    if size is not None:
        data[avih + 32:avih + 40] = struct.pack("<II", *size)
        data[strf + 4:strf + 12] = struct.pack("<ii", *size)
    path.write_bytes(bytes(data))
    return path


def vfr_video(path: Path, times: list[float], size: int = 48) -> Path:
    """Frames at the given times (seconds, irregular): frame k is filled with grey level 8 * k."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=1000)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 1000)
        for k, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(np.full((size, size, 3), (8 * k) % 250, np.uint8), format="bgr24")
            frame.pts = round(t * 1000)
            frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def jpeg_bomb_video(path: Path, size: tuple[int, int], frames: int = 5) -> Path:
    """An MJPEG .mkv whose frames are JPEG headers declaring `size` with no picture data."""
    import av

    from tests.reliability.hostile import jpeg_bomb

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        for k in range(frames):
            packet = av.Packet(jpeg_bomb(*size))
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, k, k, Fraction(1, 10)
            out.mux(packet)
    return path


def rotated(source: Path, path: Path, degrees: int) -> Path:
    ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", str(path))
    return path


def first_frame_by_ffmpeg(path: Path, out: Path) -> np.ndarray:
    """The first frame as the ffmpeg CLI shows it (it applies the display rotation)."""
    ffmpeg("-i", str(path), "-frames:v", "1", str(out))
    return cv2.imread(str(out))
