"""OpenFace feature vectors stay aligned to their names whatever columns and order each CSV has:
every stored value is compared with its source cell (NaN where a file lacked the column).
Generated: clips with random subsets and orders of AU/gaze/pose columns, in one or two imports."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from sqlalchemy import select

from core.ingest import import_path
from core.ingest.openface_import import GROUPS
from core.store.models import Feature, FeatureKind, Sample
from tests.helpers import write_image
from tests.reliability.corpus import REPORT

ALL_AUS = [f"AU{a:02d}_{t}" for t in "rc" for a in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)]
OTHER = [f"gaze_0_{a}" for a in "xyz"] + ["gaze_angle_x", "gaze_angle_y"] + [f"pose_R{a}" for a in "xyz"]


def _clip(root, emotion: str, name: str, rng: np.random.Generator, frames: int, fail: set[int]) -> None:
    """A clip whose feature columns are a random subset of ALL_AUS + OTHER in a random order."""
    cols = [c for c in ALL_AUS + OTHER if rng.random() < 0.7]
    rng.shuffle(cols)
    header = ["frame", "face_id", "timestamp", "confidence", "success", *cols]
    lines = [", ".join(header)]
    folder = root / emotion
    for f in range(1, frames + 1):
        ok = f not in fail
        vals = [str(f), "0", f"{f / 30:.4f}", "0.97", "1" if ok else "0"]
        # a frame OpenFace failed to track may carry NaN features: it is dropped, not refused
        vals += [f"{v:.3f}" if ok else "nan" for v in rng.normal(size=len(cols))]
        lines.append(", ".join(vals))
        write_image(folder / f"{name}_aligned" / f"frame_det_00_{f:06d}.bmp", hash((name, f)) % 10**6, size=32)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n")


def _source_cells(root) -> dict[str, dict[str, float]]:
    """source_path of each aligned frame -> its CSV row's cells by column name."""
    out = {}
    for path in root.rglob("*.csv"):
        with path.open() as fh:
            for row in csv.DictReader(fh, skipinitialspace=True):
                rel = path.parent.relative_to(root) / f"{path.stem}_aligned" / f"frame_det_00_{int(row['frame']):06d}.bmp"
                out[rel.as_posix()] = {k.strip(): v.strip() for k, v in row.items()}
    return out


def _mismatches(read, roots) -> tuple[int, int]:
    """(values compared, values that differ from their source cell or are not NaN where absent)."""
    cells = {}
    for root in roots:
        cells.update(_source_cells(root))
    compared = bad = 0
    with read() as s:
        names = {k.kind: k.names for k in s.scalars(select(FeatureKind))}
        for src, kind, raw in s.execute(select(Sample.source_path, Feature.kind, Feature.values)
                                        .join(Feature, Feature.sample_id == Sample.id)):
            vec = np.frombuffer(raw, np.float32)
            assert vec.size == len(names[kind]), (src, kind, vec.size, len(names[kind]))
            row = cells[src]
            for name, value in zip(names[kind], vec):
                compared += 1
                if name in row:
                    bad += not np.isclose(value, float(row[name]), atol=1e-6)
                else:
                    bad += not np.isnan(value)
            bad += sum(1 for c in row if GROUPS[kind](c) and c not in names[kind])  # a column dropped
    return compared, bad


@pytest.mark.parametrize("seed", range(12))
def test_every_stored_feature_value_equals_its_source_cell(env, read, seed):
    rng = np.random.default_rng(seed)
    roots = [env / "of1", env / "of2"] if seed % 3 == 0 else [env / "of1"]
    for r, root in enumerate(roots):
        for c in range(int(rng.integers(2, 5))):
            frames = int(rng.integers(2, 6))
            fail = {int(x) for x in rng.integers(1, frames + 1, size=int(rng.integers(0, 2)))}
            _clip(root, ["Happy", "Sad", "Anger"][c % 3], f"clip{r}_{c}", rng, frames, fail)
    for root in roots:  # a second import may bring new columns: older vectors are padded with NaN
        report = import_path("openface", root, dataset="of")
        assert report.errors == []
    compared, bad = _mismatches(read, roots)
    REPORT.record("openface feature alignment", misaligned=bad)
    assert compared > 0 and bad == 0
