"""The Gradio demo: its frame and photo functions in process, then `python gradio_app.py` served on
loopback and called through gradio_client with a real face (Happy, V/A and stress flagged prior)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.config import REPO_ROOT
from tests.hosting.common import NET_GUARD, cached_asset, free_port, stop, tail, wait_http
from tests.live.common import face

HAPPY = "0-f15-hao-ph.jpg"
PRIOR_FLAGS = {"emotion": "trained", "va": "prior", "stress": "prior"}


@pytest.fixture(scope="module")
def ga():
    import gradio_app

    return gradio_app


def magenta_pixels(rgb: np.ndarray) -> int:
    """Pixels of the overlay accent (RGB 255, 0, 255), allowing for lossy encoding."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return int(((r > 170) & (g < 100) & (b > 170)).sum())


def top(label: dict[str, float]) -> str:
    return max(label, key=label.get)


def test_gradio_import_settings(ga):
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False" and os.environ["HF_HUB_OFFLINE"] == "1"
    assert ga.DEFAULT_PORT == 7861


def test_webcam_frame_read_only_array(in_app_env, ga):
    rgb = cv2.cvtColor(cv2.imread(str(cached_asset(HAPPY))), cv2.COLOR_BGR2RGB)
    original = rgb.copy()
    rgb.setflags(write=False)  # what gradio 6 hands a streaming function
    choices = {ga.DEFAULT_LABEL: None}
    image, label, text, result, state = ga.analyze_frame(rgb, ga.DEFAULT_LABEL, None, 0.6, None,
                                                         choices=choices)
    assert np.array_equal(rgb, original)
    assert image.shape == rgb.shape and magenta_pixels(image) > 200
    assert top(label) == "Happy"
    assert result["faces"][0]["flags"] == PRIOR_FLAGS and "(prior)" in text and "frames/s" in text
    again = ga.analyze_frame(rgb, ga.DEFAULT_LABEL, [], 0.0, state, choices=choices)
    assert again[4] is state  # one LiveProcessor per viewer, kept in gr.State
    assert magenta_pixels(again[0]) == 0  # every overlay switched off


def test_webcam_frame_waits_for_camera(ga):
    image, label, text, result, state = ga.analyze_frame(None, None, None, 0.6, None, choices={})
    assert image is None and label is None and result is None and state is None
    assert "Waiting" in text


def test_summary_marks_prior_and_untrained(ga):
    assert ga.summary_markdown([]) == "No face found."
    text = ga.summary_markdown([face(prior=True)])
    assert "V/A (prior)" in text and "Stress (prior)" in text and ga.PRIOR_NOTE in text
    trained = ga.summary_markdown([face(prior=False)])
    assert "(prior)" not in trained
    untrained = face(prior=False)
    untrained.flags["emotion"] = "untrained"
    assert "untrained" in ga.summary_markdown([untrained])


def test_overlay_options(ga):
    assert ga.overlay_options(None) == ga.OverlayOptions()
    opts = ga.overlay_options(["bars"])
    assert opts.bars and not (opts.box or opts.label or opts.circumplex or opts.stress)


def test_va_figure_draws_prior_hollow(ga):
    fig = ga.va_figure([face(prior=True), face(prior=False, va=(-0.5, 0.2))])
    symbols = [t.marker.symbol for t in fig.data if t.mode == "markers"]
    assert symbols == ["circle-open", "circle"]
    assert fig.layout.title.text == "V/A (prior)"


def test_photo_rejects_non_images(in_app_env, ga, tmp_path):
    import gradio as gr

    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    with pytest.raises(gr.Error, match="not an image"):
        ga.analyze_image(str(bad), None, None, choices={})
    assert ga.analyze_image(None, None, None, choices={})[3].startswith("Upload")


@pytest.mark.slow
def test_served_app_answers_gradio_client(app_env, tmp_path):
    """`python gradio_app.py` on 127.0.0.1:GRADIO_SERVER_PORT; /analyze_image on a real happy face."""
    from gradio_client import Client, handle_file

    port, log = free_port(), tmp_path / "gradio.log"
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(NET_GUARD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIO_", "HF_"))}
    env.update(app_env, GRADIO_SERVER_PORT=str(port), PYTHONPATH=str(tmp_path / "guard"),
               NET_LOG=str(tmp_path / "net.log"), PIP_NO_INDEX="1")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "gradio_app.py"], cwd=REPO_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc, timeout=180)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert {"/analyze_image", "/analyze_frame"} <= set(endpoints)
        image, label, plot, text, result = client.predict(
            handle_file(str(cached_asset(HAPPY))), "Pretrained FER mini-Xception (default)",
            ["box", "label", "circumplex", "stress"], api_name="/analyze_image")
    finally:
        stop(proc)
    assert label["label"] == "Happy", label
    assert result["faces"][0]["flags"] == PRIOR_FLAGS
    assert result["faces"][0]["emotion"] == "Happy" and result["model"].startswith("fer_mini_xception@")
    assert "V/A (prior)" in text and "Stress (prior)" in text
    annotated = cv2.cvtColor(cv2.imread(image), cv2.COLOR_BGR2RGB)
    assert magenta_pixels(annotated) > 200  # the Live page's box and V/A point were drawn
    assert plot["type"] == "plotly"
    assert f"127.0.0.1:{port}" in tail(log), tail(log)
    net_log = Path(env["NET_LOG"])
    assert not net_log.exists(), f"the app tried to leave the machine: {net_log.read_text()}"
