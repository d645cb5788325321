"""Hostile files for the import tests: decompression-bomb headers, broken images and videos, and a
sandbox whose every byte is compared before and after each case."""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from sqlalchemy import select

from core.store.db import read_session
from core.store.models import Annotation, Dataset, FeatureKind, Media, Sample

IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(w: int, h: int) -> bytes:
    """A valid-looking PNG of w x h RGB pixels whose IDAT holds a few bytes (~70 bytes)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))


def gif_bomb(w: int, h: int) -> bytes:
    """GIF89a with a w x h screen and frame (u16 each), one LZW code of data."""
    screen = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x02\x02\x44\x01\x00"
    return screen + frame + b"\x3b"


def bmp_bomb(w: int, h: int) -> bytes:
    """BMP headers announcing w x h x 24 bit with no pixel data."""
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


def jpeg_bomb(w: int, h: int) -> bytes:
    """A JPEG start with a baseline SOF of h x w (u16 each) and nothing after it."""
    sof = struct.pack(">BHHB", 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


def tiff_bomb(w: int, h: int) -> bytes:
    """A little-endian TIFF IFD announcing w x h 8-bit gray, one strip of 8 bytes."""
    tags = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 4, 1, 8 + 2 + 12 * 8 + 4), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, 8)]
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags) + b"\0" * 4
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0" * 8


BOMBS = {"png": png_bomb, "gif": gif_bomb, "bmp": bmp_bomb, "jpg": jpeg_bomb, "tif": tiff_bomb}


def image_bytes(fmt: str, seed: int = 0, size: int = 24) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def noise_video(path: Path, frames: int = 12, size: int = 64) -> Path:
    """An MJPG .avi of random noise: decodes fine, has no face."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (size, size))
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    writer.release()
    return path


@dataclass
class Sandbox:
    """root/data (the data dir), root/test.db, root/cwd (the working dir), root/outside (targets of
    escaping paths), root/cases (the hostile inputs, one folder per case)."""
    root: Path
    n: int = 0
    baseline: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sub in ("cwd", "outside/dir", "cases"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "outside" / "secret.txt").write_text("do not read me\n")
        (self.root / "outside" / "face.png").write_bytes(image_bytes("PNG", 99))
        (self.root / "outside" / "dir" / "face.png").write_bytes(image_bytes("PNG", 98))

    def case(self) -> Path:
        """A new empty folder for one case."""
        self.n += 1
        path = self.root / "cases" / f"c{self.n:05d}"
        path.mkdir()
        return path

    def files(self) -> dict[str, tuple[int, int]]:
        """Every file outside cases/ and the SQLite files: relative path -> (size, mtime)."""
        out = {}
        for dirpath, dirs, names in os.walk(self.root):
            rel_dir = Path(dirpath).relative_to(self.root)
            if rel_dir.parts[:1] == ("cases",):
                dirs.clear()
                continue
            for name in names:
                rel = rel_dir / name
                if name.startswith("test.db"):
                    continue
                st = (Path(dirpath) / name).lstat()
                out[str(rel)] = (st.st_size, st.st_mtime_ns)
        return out

    def state(self) -> dict:
        with read_session() as s:
            return {"files": self.files(),
                    "annotations": [tuple(r) for r in s.execute(select(
                        Annotation.id, Annotation.sample_id, Annotation.source, Annotation.emotion,
                        Annotation.valence, Annotation.arousal, Annotation.stress, Annotation.supersedes_id))],
                    "samples": [tuple(r) for r in s.execute(select(
                        Sample.id, Sample.cur_annotation_id, Sample.cur_emotion, Sample.cur_valence,
                        Sample.subject, Sample.split))],
                    "other": [tuple(s.scalars(select(m.__table__.c[0]))) for m in (Dataset, Media, FeatureKind)]}

    def assert_untouched(self) -> None:
        now = self.state()
        for key in ("annotations", "samples", "other"):
            assert now[key] == self.baseline[key], f"{key} changed"
        assert now["files"] == self.baseline["files"], sorted(
            set(now["files"].items()) ^ set(self.baseline["files"].items()))[:10]
