"""read_image / decode_image: real files, colour modes, EXIF rotation and every refusal."""

from __future__ import annotations

import io
import struct
import time
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from core.faces import ImageError, decode_image, read_image
from core.faces.io import to_bgr


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _huge_png(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims a 1-bit width x height image."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)  # far less data than the header promises
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def test_reads_real_jpeg(asset):
    path = asset("single_face.jpg")
    img = read_image(path)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert np.abs(img.astype(int) - cv2.imread(str(path)).astype(int)).mean() < 2


def test_zero_byte(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty.jpg.*empty"):
        read_image(path)


def test_truncated(tmp_path, asset):
    data = asset("single_face.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cut.jpg.*truncated"):
        read_image(path)


def test_text_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n")
    with pytest.raises(ImageError, match="notes.jpg.*not an image"):
        read_image(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "nope.png")


@pytest.mark.parametrize("side", [100_000, 8_000])  # PIL's own bomb guard / our 50 MP cap
def test_huge_dimensions_refused_before_decoding(tmp_path, side):
    path = tmp_path / "bomb.png"
    path.write_bytes(_huge_png(side, side))
    assert path.stat().st_size < 1000
    start = time.perf_counter()
    with pytest.raises(ImageError, match="bomb.png.*too large"):
        read_image(path)
    assert time.perf_counter() - start < 0.5


def test_pixel_cap_is_configurable(asset):
    with pytest.raises(ImageError, match="too large"):
        read_image(asset("single_face.jpg"), max_pixels=10_000)


def _encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_gray_rgba_and_16_bit_become_bgr():
    rgba = Image.new("RGBA", (20, 10), (255, 0, 0, 128))
    assert decode_image(_encode(rgba))[0, 0].tolist() == [0, 0, 255]  # red, alpha dropped
    gray = decode_image(_encode(Image.new("L", (20, 10), 77)))
    assert gray.shape == (10, 20, 3) and gray[0, 0].tolist() == [77, 77, 77]
    deep = Image.fromarray(np.full((10, 20), 40000, dtype=np.uint16))
    assert decode_image(_encode(deep))[0, 0].tolist() == [156, 156, 156]
    palette = Image.new("P", (8, 8), 3)
    assert decode_image(_encode(palette)).shape == (8, 8, 3)


def test_exif_rotation_applied():
    im = Image.new("RGB", (40, 20), (0, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    assert decode_image(_encode(im, "JPEG", exif=exif.tobytes())).shape == (40, 20, 3)


def test_decode_bytes_names_the_source():
    with pytest.raises(ImageError, match="upload.png"):
        decode_image(b"GIF89a-broken", name="upload.png")


def test_to_bgr_shapes():
    assert to_bgr(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert to_bgr(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    with pytest.raises(ValueError):
        to_bgr(np.zeros((4, 5, 3), np.float64))
