"""A tiny learnable affect dataset: class-coded 64x64 images imported through the CSV importer."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.train_config import TrainConfig

N_CLASSES = 8


def face_like(code: int, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """A gray image whose stripe frequency and brightness encode the class, plus noise."""
    y = np.arange(size, dtype=np.float32)[:, None]
    stripes = np.sin(y * (code + 1) * np.pi / size) * 60
    base = 60 + 16 * code + stripes + rng.normal(0, 12, (size, size))
    return np.clip(np.repeat(base[..., None], 3, axis=2), 0, 255).astype(np.uint8)


def write_tiny_csv(root: Path, n: int = 64, *, seed: int = 0) -> Path:
    """root/imgs/*.png and root/labels.csv with emotion, V/A, stress (every 5th missing) and a
    split (a quarter val)."""
    rng = np.random.default_rng(seed)
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    lines = ["image_path,emotion,valence,arousal,stress,subject,split"]
    for i in range(n):
        code = i % N_CLASSES
        cv2.imwrite(str(root / "imgs" / f"{i}.png"), face_like(code, rng))
        v, a = code / 3.5 - 1, (code * 3 % N_CLASSES) / 3.5 - 1
        stress = "" if i % 5 == 0 else f"{float(code >= 4):.1f}"
        split = "val" if (i // N_CLASSES) % 4 == 0 else "train"  # every class in both splits
        lines.append(f"imgs/{i}.png,{code},{v:.3f},{a:.3f},{stress},s{i},{split}")
    path = root / "labels.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def import_tiny(tmp: Path, n: int = 64, *, dataset: str = "tiny") -> str:
    from core.ingest import import_path
    import_path("csv", write_tiny_csv(tmp / "src", n), dataset=dataset)
    return dataset


def tiny_config(dataset: str = "tiny", **kw) -> TrainConfig:
    """Scratch mini-Xception, no augmentation, CPU: a couple of seconds per epoch."""
    base = dict(dataset=dataset, backbone="mini_xception", init="scratch", epochs=2, batch_size=16,
                lr=3e-3, scheduler="none", patience=0, device="cpu", heartbeat_s=0.0,
                hflip=False, rotate=0.0, color=0.0, crop=0.0, seed=0)
    return TrainConfig(**(base | kw))
