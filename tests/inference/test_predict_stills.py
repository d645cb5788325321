"""Stills through the predict path: every face of a group photo, numbered; real posed faces keep
their answers after the one-geometry change."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from core.faces.types import iou
from tests.inference.conftest import cached_asset

# Through `predict` before the canonical crop (a direct 64 px gray warp, short range only):
# photo -> (true class, top class, probability of the true class)
BEFORE = {
    "0-f15-hao-ph.jpg": ("Happy", "Happy", 0.995),
    "0-f1-su-ph.jpg": ("Surprise", "Surprise", 0.732),
    "15-f13-anc-ph.jpg": ("Anger", "Sad", 0.272),
    "45-m7-di-ph.jpg": ("Disgust", "Neutral", 0.006),
}


@pytest.fixture(scope="module")
def default_model():
    """The pretrained default loaded the way `predict` loads it (catalog, its default options)."""
    from core.predict import load_predictor

    return load_predictor("default", backend="torch")


def test_posed_real_faces_do_not_get_worse(default_model, tmp_path):
    from core.predict import predict_paths

    for name in [*BEFORE, "single_face.jpg"]:
        shutil.copyfile(cached_asset(name), tmp_path / name)
    result = predict_paths(tmp_path, default_model)
    faces = {f["file"].rsplit("/", 1)[-1]: f["faces"] for f in result["files"]}
    assert all(len(found) == 1 for found in faces.values()), faces
    assert faces["single_face.jpg"][0]["emotion"] == "Happy"
    now = {name: (faces[name][0]["emotion"], faces[name][0]["probs"][true])
           for name, (true, _, _) in BEFORE.items()}
    for name, (true, top, _) in BEFORE.items():
        if top == true:
            assert now[name][0] == true, (name, now[name])  # what was right stays right
    correct = sum(now[n][0] == t for n, (t, _, _) in BEFORE.items())
    assert correct >= sum(top == t for t, top, _ in BEFORE.values())
    mean_before = np.mean([p for _, _, p in BEFORE.values()])
    assert np.mean([p for _, p in now.values()]) >= mean_before - 0.01, now


def test_group_photo_finds_all_five_faces_by_default(default_model):
    from core.predict import predict_paths

    result = predict_paths(cached_asset("multi_face.jpg"), default_model)
    faces = result["files"][0]["faces"]
    assert len(faces) == 5, [f["bbox"] for f in faces]
    boxes = [tuple(f["bbox"]) for f in faces]
    assert all(iou(a, b) < 0.3 for i, a in enumerate(boxes) for b in boxes[i + 1:])
    from core.faces import read_image

    frame = read_image(cached_asset("multi_face.jpg"))
    assert len(default_model.predict_frame(frame, detector="short")) < 5  # one range alone misses some
