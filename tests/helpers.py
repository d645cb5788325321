"""Small generated data for tests: images, AffectNet-style CSVs, OpenFace folders."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np


def write_image(path: Path, seed: int, size: int = 24) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    return path


def write_affectnet_csv(root: Path, n: int = 40, *, seed: int = 0, subjects: int = 8,
                        name: str = "labels.csv", extra: str = "") -> Path:
    """n images under root/imgs and a CSV image_path,emotion,valence,arousal,stress,subject."""
    rng = np.random.default_rng(seed)
    lines = ["image_path,emotion,valence,arousal,stress,subject"]
    for i in range(n):
        write_image(root / "imgs" / f"{seed}_{i}.png", seed * 100_000 + i)
        lines.append(f"imgs/{seed}_{i}.png,{i % 8},{rng.uniform(-1, 1):.4f},{rng.uniform(-1, 1):.4f},"
                     f"{rng.uniform(0, 1):.4f},s{i % subjects}")
    path = root / name
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def write_openface(root: Path, emotion: str, name: str, frames: int = 5, *, fail: tuple[int, ...] = (),
                   low: tuple[int, ...] = ()) -> Path:
    """An OpenFace FeatureExtraction output: root/emotion/name.csv + name_aligned/*.bmp."""
    folder = root / emotion
    aligned = folder / f"{name}_aligned"
    aligned.mkdir(parents=True, exist_ok=True)
    cols = (["frame", " face_id", " timestamp", " confidence", " success"]
            + [f" gaze_0_{a}" for a in "xyz"] + [" gaze_angle_x", " gaze_angle_y"]
            + [f" pose_{p}" for p in ("Tx", "Ty", "Tz", "Rx", "Ry", "Rz")]
            + [f" x_{i}" for i in range(68)] + [f" y_{i}" for i in range(68)]
            + [f" AU{a:02d}_r" for a in (1, 2, 4, 6, 12)] + [f" AU{a:02d}_c" for a in (1, 2, 4, 6, 12)])
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    rows = [",".join(cols)]
    for f in range(1, frames + 1):
        success = 0 if f in fail else 1
        conf = 0.5 if f in low else 0.98
        vals = [f, 0, f / 30, conf, success] + rng.normal(size=len(cols) - 5).round(3).tolist()
        rows.append(", ".join(str(v) for v in vals))
        write_image(aligned / f"frame_det_00_{f:06d}.bmp", f + 1000 * len(name), size=112)
    csv = folder / f"{name}.csv"
    csv.write_text("\n".join(rows) + "\n")
    return csv


def wait_for(pred: Callable[[], object], timeout: float = 15.0, what: str = "condition",
             poll_s: float = 0.05) -> object:
    """pred()'s first truthy value, polled every poll_s; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not (value := pred()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll_s)
    return value
