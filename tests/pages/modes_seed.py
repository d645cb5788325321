"""Three generated datasets with real crop files for the label-mode page tests: "emotic"
(multi-label over EMOTIC-26, V/A/D), "mosei" (distributions over MOSEI-6, a sentiment target) and
"fiv2" (the Big Five + interview traits)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.ingest.commit import commit_samples
from core.ingest.records import PendingSample
from core.label_schema import EMOTIC26, FIV2_TARGETS, MOSEI6, emotic_schema, fiv2_schema, mosei_schema
from core.store.datasets import get_or_create_dataset
from core.store.db import write_session

N = 8  # samples per dataset


def _crop(data: Path, name: str, i: int, rng: np.random.Generator) -> str:
    rel = f"crops/modes/{name}{i}.png"
    (data / rel).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(data / rel), rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))
    return rel


def _labels(name: str, i: int) -> dict:
    if name == "emotic":  # sample i: categories i%26 and (i+1)%26; sample 0 also Fear
        cats = [EMOTIC26[i % 26], EMOTIC26[(i + 1) % 26]] + (["Fear"] if i == 0 else [])
        return {"emotions": cats, "valence": 0.1 * i - 0.3, "arousal": 0.2, "dominance": -0.1 * i}
    if name == "mosei":  # dominant class MOSEI6[i % 6]
        return {"distribution": {MOSEI6[i % 6]: 0.75, MOSEI6[(i + 1) % 6]: 0.25},
                "targets": {"sentiment": float(i % 7 - 3)}}
    return {"targets": {t: round(0.1 + 0.1 * ((i + k) % 9), 2) for k, t in enumerate(FIV2_TARGETS)}}


def seed_modes(env: Path, *, names: dict[str, str] | None = None) -> dict[str, int]:
    """The three datasets (N samples each, split train), or those of `names` (kind -> dataset
    name, e.g. {"emotic": "demo"}); returns kind -> dataset id."""
    rng, out = np.random.default_rng(0), {}
    schemas = {"emotic": emotic_schema(), "mosei": mosei_schema(), "fiv2": fiv2_schema()}
    names = names or {k: k for k in schemas}
    with write_session() as s, s.begin():
        for name, schema in ((k, schemas[k]) for k in names):
            ds = get_or_create_dataset(s, names[name], schema=schema)
            records = [PendingSample(crop_sha256=f"{name}{i:08d}".ljust(64, "0"),
                                     crop_path=_crop(env / "data", name, i, rng), source_path=f"{i}.png",
                                     subject=f"p{i % 4}", split="train", **_labels(name, i))
                       for i in range(N)]
            commit_samples(s, ds, records, rules=None)
            out[name] = ds.id
    return out
