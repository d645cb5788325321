"""Generated datasets for every label mode whose labels depend on the image: multi-label quadrants,
distributions as quadrant brightness, a brightness trait; stored through core.ingest.commit."""
from __future__ import annotations

import hashlib

import cv2
import numpy as np

from core.config import get_settings
from core.ingest.commit import commit_samples
from core.ingest.records import PendingSample
from core.label_schema import LabelSchema, TargetSpec
from core.store.datasets import get_or_create_dataset
from core.store.db import write_session
from core.train_config import TrainConfig

CLASSES = ("Red", "Green", "Blue", "Gray")
SIZE = 32


def patterned(levels: np.ndarray, rng: np.random.Generator, brightness: float = 0.5) -> np.ndarray:
    """A SIZE x SIZE BGR image: quadrant k holds pattern k (horizontal, vertical, checker,
    diagonal stripes) with contrast levels[k] in [0, 1] on a gray of `brightness`, plus noise."""
    h = SIZE // 2
    y, x = np.mgrid[0:h, 0:h].astype(np.float32) * (np.pi / 2)  # period 4 px
    patterns = (np.sin(y), np.sin(x), np.sign(np.sin(x) * np.sin(y)), np.sin(x + y))
    img = np.full((SIZE, SIZE), 40 + 170 * brightness, np.float32)
    for k, (top, left) in enumerate(((0, 0), (0, h), (h, 0), (h, h))):
        img[top:top + h, left:left + h] += 40 * levels[k] * patterns[k]
    img += rng.normal(0, 6, img.shape)
    return np.repeat(np.clip(img, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _split(i: int) -> str:
    return ("val", "test", "train", "train", "train")[i % 5]


def _store(name: str, schema: LabelSchema, images: list[np.ndarray], labels: list[dict]) -> str:
    """Write the crops into the data dir and commit one imported sample per image."""
    crops = get_settings().data_dir / "crops"
    crops.mkdir(parents=True, exist_ok=True)
    records = []
    for i, (img, label) in enumerate(zip(images, labels)):
        ok, buf = cv2.imencode(".png", img)
        sha = hashlib.sha256(buf.tobytes()).hexdigest()
        (crops / f"{sha}.png").write_bytes(buf.tobytes())
        records.append(PendingSample(crop_sha256=sha, crop_path=f"crops/{sha}.png",
                                     source_path=f"gen/{i}.png", split=_split(i), **label))
    with write_session() as s, s.begin():
        commit_samples(s, get_or_create_dataset(s, name, schema=schema), records, rules=None)
    return name


def multi_label_dataset(n: int = 120, *, seed: int = 0, name: str = "multi") -> str:
    """Class k is present when pattern k shows (p = 0.35 each); dominance = the share of
    patterns shown, on [-1, 1]."""
    rng = np.random.default_rng(seed)
    schema = LabelSchema(classes=CLASSES, emotion_mode="multi", dominance=True, stress=False)
    images, labels = [], []
    for _ in range(n):
        on = rng.random(4) < 0.35
        images.append(patterned(on.astype(float), rng))
        labels.append({"emotions": [c for c, b in zip(CLASSES, on) if b],
                       "dominance": float(on.mean() * 2 - 1)})
    return _store(name, schema, images, labels)


def distribution_dataset(n: int = 120, *, seed: int = 0, name: str = "dist") -> str:
    """Intensities 0..3: one dominant class at 3, the others 0 or 1; each pattern's contrast
    shows its class's intensity."""
    rng = np.random.default_rng(seed)
    schema = LabelSchema(classes=CLASSES, emotion_mode="distribution", stress=False)
    images, labels = [], []
    for _ in range(n):
        intensity = rng.integers(0, 2, 4).astype(float)
        intensity[rng.integers(4)] = 3.0
        images.append(patterned(intensity / 3.0, rng))
        labels.append({"distribution": schema.check_distribution(dict(zip(CLASSES, intensity)))})
    return _store(name, schema, images, labels)


def traits_dataset(n: int = 120, *, seed: int = 0, name: str = "traits") -> str:
    """Two named targets: "openness" in [0, 1] = the gray level, "sentiment" in [-3, 3] = the
    contrast of the horizontal stripes mapped onto -3..3; no emotion labels."""
    rng = np.random.default_rng(seed)
    schema = LabelSchema(classes=CLASSES, emotion_mode="distribution", stress=False,
                         targets=(TargetSpec("openness"), TargetSpec("sentiment", -3.0, 3.0)))
    images, labels = [], []
    for _ in range(n):
        levels, gray = rng.random(4), float(rng.random())
        images.append(patterned(levels, rng, gray))
        labels.append({"targets": {"openness": gray, "sentiment": float(6 * levels[0] - 3)}})
    return _store(name, schema, images, labels)


def modes_config(dataset: str, **kw) -> TrainConfig:
    """Scratch mini-Xception on 32 px crops, CPU, no augmentation: about a second per epoch."""
    base = dict(dataset=dataset, backbone="mini_xception", init="scratch", epochs=8, batch_size=8,
                lr=3e-3, scheduler="cosine", patience=0, device="cpu", heartbeat_s=0.0,
                hflip=False, rotate=0.0, color=0.0, crop=0.0, seed=0,
                model={"input_size": SIZE, "widths": [8, 16, 32, 64]}, amp=False)
    return TrainConfig(**(base | kw))
