"""Reading image files or bytes into BGR uint8 arrays, and normalising frames to BGR."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000  # refuse larger images (decompression bombs) before decoding them
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}  # files read as images


class ImageError(ValueError):
    """An image file or buffer that cannot (or must not) be decoded; the message names it."""


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """Gray (H, W) or (H, W, 1), BGR or BGRA uint8 -> contiguous (H, W, 3) BGR uint8."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 numpy frame, got {getattr(frame, 'dtype', type(frame))}")
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
        return cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return np.ascontiguousarray(frame)
    raise ValueError(f"expected a gray, BGR or BGRA frame, got shape {frame.shape}")


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        return (arr >> 8).astype(np.uint8)
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    arr = arr.astype(np.float64)  # 32-bit int or float modes: stretch to the full range
    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
    scaled = (arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)
    return np.nan_to_num(scaled).astype(np.uint8)


def _pil_to_bgr(im: Image.Image) -> np.ndarray:
    im = ImageOps.exif_transpose(im)  # phone photos store their rotation in EXIF
    if im.mode in ("1", "L", "I", "I;16", "I;16B", "I;16L", "F"):
        return cv2.cvtColor(_to_uint8(np.asarray(im)), cv2.COLOR_GRAY2BGR)
    if im.mode != "RGB":
        im = im.convert("RGB")  # P, LA, RGBA (alpha dropped), CMYK, YCbCr ...
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)


def decode_image(data: bytes, *, name: str = "<bytes>", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes (an upload, a file's content) to BGR uint8.

    The pixel count is read from the header and checked against max_pixels before any pixel
    data is decoded. Raises ImageError, naming `name`, for empty, non-image, truncated or
    corrupt data and for images over the cap.
    """
    if len(data) == 0:
        raise ImageError(f"{name}: file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width <= 0 or height <= 0:
                    raise ImageError(f"{name}: image header gives an empty size {width}x{height}")
                if width * height > max_pixels:
                    raise ImageError(
                        f"{name}: image too large, {width}x{height} = {width * height / 1e6:.1f} "
                        f"megapixels exceeds the cap of {max_pixels / 1e6:.1f} megapixels"
                    )
                im.load()  # full decode; raises on truncated or corrupt data
                return _pil_to_bgr(im)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (unrecognised format, {len(data)} bytes)") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: image too large ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{name}: truncated or corrupt image ({exc})") from None


def read_image(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file to BGR uint8 (EXIF rotation applied; gray and RGBA become BGR)."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc})") from None
    return decode_image(data, name=str(path), max_pixels=max_pixels)
