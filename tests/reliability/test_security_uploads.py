"""Uploads without limits (issue 16, item 8): a visitor's photo is refused over the size cap or the
decoded-pixel budget before any pixel is decoded (generated bombs of every format); the Gradio
demo caps uploads, hands files over undecoded, keeps Pillow's own guard at the same budget and
publishes no server path in its /config."""
from __future__ import annotations

import io
import json
import os
import re
import urllib.error
import urllib.request
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.faces.io import ImageError
from core.uploads import UPLOAD_IMAGE_MB, UPLOAD_MAX_PIXELS, decode_upload
from tests.conftest import ASSETS
from tests.reliability.corpus import REPORT
from tests.reliability.hostile import BOMBS, image_bytes

HYP = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck),
               max_examples=120)
GRADIO_PORT = 8628


@pytest.fixture
def loads(monkeypatch) -> list[tuple[int, int]]:
    """Every full decode Pillow does, by size."""
    seen, real = [], Image.Image.load

    def spy(self):
        seen.append(self.size)
        return real(self)

    monkeypatch.setattr(Image.Image, "load", spy)
    return seen


@HYP
@given(st.sampled_from(sorted(BOMBS)), st.integers(4_000, 60_000), st.integers(6_001, 60_000))
def test_generated_bombs_are_refused_from_the_header(fmt, w, h):
    data = BOMBS[fmt](w, h)
    seen, real = [], Image.Image.load
    Image.Image.load = lambda self: seen.append(self.size) or real(self)
    try:
        with pytest.raises(ImageError) as info:
            decode_upload(data, name=f"b.{fmt}")
    finally:
        Image.Image.load = real
    big = [s for s in seen if s[0] * s[1] > UPLOAD_MAX_PIXELS]
    ok = not big and info.value.args[0].startswith(f"b.{fmt}")
    REPORT.record("uploads: generated bombs", clear_error=ok, crash=not ok)
    assert ok, (seen, info.value)


def test_a_small_png_of_49_megapixels_is_never_decoded(loads):
    buf = io.BytesIO()
    Image.new("L", (7000, 7000), 128).save(buf, "PNG")  # 0.06 MiB on disk, ~235 MiB decoded
    loads.clear()
    with pytest.raises(ImageError, match="too large"):
        decode_upload(buf.getvalue(), name="wide.png")
    assert loads == []
    REPORT.record("uploads: pixel budget", clear_error=True)


def test_size_cap_before_reading_and_good_photos_pass():
    with pytest.raises(ImageError, match=f"over the {UPLOAD_IMAGE_MB} MiB limit"):
        decode_upload(b"\xff\xd8\xff" + b"\0" * (UPLOAD_IMAGE_MB * 2**20), name="big.jpg")
    assert decode_upload(image_bytes("PNG", 1), name="ok.png").shape == (24, 24, 3)
    REPORT.record("uploads: size cap", clear_error=True)


@pytest.fixture(scope="module")
def demo():
    """The Gradio demo served in this process on a loopback port."""
    os.environ.setdefault("AFFECTLAB_ASSETS_DIR", str(ASSETS))
    import gradio_app

    pillow_cap = Image.MAX_IMAGE_PIXELS
    app = gradio_app.build_demo(["Pretrained FER mini-Xception (default)"])
    app.queue().launch(server_name="127.0.0.1", server_port=GRADIO_PORT, prevent_thread_lock=True, ssr_mode=False,
                       max_file_size=f"{gradio_app.MAX_UPLOAD_MB}mb")
    yield gradio_app
    app.close()
    Image.MAX_IMAGE_PIXELS = pillow_cap  # build_demo lowers it for its whole process


def test_gradio_config_shows_no_server_path(demo):
    with urllib.request.urlopen(f"http://127.0.0.1:{GRADIO_PORT}/config", timeout=10) as r:
        config = r.read().decode()
    paths = sorted(set(re.findall(r'"(/(?:tmp|home|work|root|data|usr|var)[^"]*)"', config)))
    REPORT.record("uploads: gradio config", clear_error=not paths, crash=bool(paths))
    assert paths == [] and str(ASSETS) not in config, paths[:5]
    assert json.loads(config)["max_file_size"] == demo.MAX_UPLOAD_MB * 2**20


def _upload(size: int) -> int:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + b"\0" * size + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"http://127.0.0.1:{GRADIO_PORT}/gradio_api/upload", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_gradio_refuses_oversize_uploads(demo):
    assert _upload(1000) == 200
    code = _upload(demo.MAX_UPLOAD_MB * 2**20 + 1)
    REPORT.record("uploads: gradio size cap", clear_error=code == 413, crash=code == 200)
    assert code == 413


def test_gradio_photo_bombs_are_refused_undecoded(demo, tmp_path, loads):
    import gradio as gr

    for i, (w, h) in enumerate([(13000, 13000), (7000, 7000), (60000, 60000)]):
        bomb = tmp_path / f"bomb{i}.png"
        bomb.write_bytes(BOMBS["png"](w, h))
        with pytest.raises(gr.Error, match="too large"):
            demo.analyze_image(str(bomb), None, None, choices=[])
        assert all(a * b <= UPLOAD_MAX_PIXELS for a, b in loads)
        REPORT.record("uploads: gradio photo bombs", clear_error=True)
    assert Image.MAX_IMAGE_PIXELS * 2 <= UPLOAD_MAX_PIXELS  # Gradio's own decodes hit Pillow's guard
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(BOMBS["png"](13000, 13000))).load()
