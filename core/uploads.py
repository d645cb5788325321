"""What a visitor may upload (Upload page, Gradio demo): size caps and a decoded-pixel budget."""
from __future__ import annotations

import numpy as np

from core.faces.io import ImageError, decode_image

UPLOAD_IMAGE_MB = 25  # per photo
UPLOAD_VIDEO_MB = 200  # per video (Streamlit's server.maxUploadSize is the outer cap)
# ~72 MB of decoded RGB (a 6000x4000 camera photo fits); Pillow's header gives the size before
# any pixel is decoded (a 7000x7000 PNG of 0.06 MiB would otherwise cost ~235 MiB)
UPLOAD_MAX_PIXELS = 24_000_000


def check_upload_size(size: int, *, name: str, limit_mb: int = UPLOAD_IMAGE_MB) -> None:
    """ImageError (naming the file) when `size` bytes are over the cap."""
    if size > limit_mb * 2**20:
        raise ImageError(f"{name}: {size / 2**20:.1f} MiB is over the {limit_mb} MiB limit")


def decode_upload(data: bytes, *, name: str) -> np.ndarray:
    """An uploaded photo to BGR: refused (ImageError) over the size cap or the pixel budget,
    both checked before any pixel is decoded."""
    check_upload_size(len(data), name=name)
    return decode_image(data, name=name, max_pixels=UPLOAD_MAX_PIXELS)
