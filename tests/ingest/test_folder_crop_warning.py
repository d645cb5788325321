"""`folder` import of whole photos (not face crops) warns and points to `images`; real face crops
of any size, colour or gray, import without a warning; every import kind's layout is one line."""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from core.assets import asset_path
from core.import_formats import LAYOUTS
from core.inference.media import real_face_crops
from core.ingest import import_path
from core.ingest.run import PARSERS


def _crops(folder, size: int, gray: bool, n: int = 6):
    folder.mkdir(parents=True, exist_ok=True)
    for i, crop in enumerate(real_face_crops(112, gray=False, mirror=True)[:n]):
        img = cv2.resize(crop, (size, size))
        cv2.imwrite(str(folder / f"c{i}.png"), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if gray else img)


def _photos(folder, n: int = 6, seed: int = 0):
    """Whole photos: the asset scenes, and a small face pasted into a large noisy picture."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in ("multi_face.jpg", "astronaut.png"):
        shutil.copyfile(asset_path(name), folder / name)
    crops = real_face_crops(112, gray=False, mirror=False)
    for i in range(n - 2):
        scene = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
        face = cv2.resize(crops[i % len(crops)], (60, 60))
        y, x = int(rng.integers(0, 400)), int(rng.integers(0, 560))
        scene[y:y + 60, x:x + 60] = face
        cv2.imwrite(str(folder / f"scene{i}.jpg"), scene)


@pytest.mark.parametrize("size,gray", [(48, True), (64, False), (112, False), (224, True)])
def test_face_crops_import_without_a_warning(env, size, gray):
    _crops(env / "in" / "Happy", size, gray)
    report = import_path("folder", env / "in", dataset="crops")
    assert report.added == 6 and report.warnings == []


@pytest.mark.parametrize("seed", range(3))
def test_whole_photos_warn_and_point_to_images(env, seed):
    _photos(env / "in" / "Sad", seed=seed)
    report = import_path("folder", env / "in", dataset="photos")
    assert report.added == 6  # imported as asked, but the report says what it looks like
    assert len(report.warnings) == 1 and "`images`" in report.warnings[0]
    assert "whole photos" in report.warnings[0] and report.to_dict()["warnings"] == report.warnings


def test_a_few_photos_among_crops_do_not_warn(env):
    _crops(env / "in" / "Happy", 64, False, n=8)
    _photos(env / "in" / "Happy" / "p", n=3)
    assert import_path("folder", env / "in", dataset="mixed").warnings == []


def test_every_import_kind_has_a_one_line_layout():
    assert set(LAYOUTS) == set(PARSERS)
    assert all(text and "\n" not in text for text in LAYOUTS.values())
