"""Label store benchmark: CSV import rows/s (100k rows with images) and page queries at 1M samples."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_csv(root: Path, rows: int, distinct_images: int) -> Path:
    """A CSV of `rows` rows over `distinct_images` 24x24 PNGs (each row its own image when equal)."""
    rng = np.random.default_rng(0)
    (root / "imgs").mkdir(parents=True)
    for i in range(distinct_images):
        cv2.imwrite(str(root / "imgs" / f"{i}.png"), rng.integers(0, 255, (24, 24, 3), dtype=np.uint8))
    lines = ["image_path,emotion,valence,arousal,subject"]
    va = rng.uniform(-1, 1, (rows, 2)).round(4)
    for i in range(rows):
        lines.append(f"imgs/{i % distinct_images}.png,{i % 8},{va[i, 0]},{va[i, 1]},s{i % 500}")
    path = root / "labels.csv"
    path.write_text("\n".join(lines))
    return path


def bench_import(rows: int) -> dict:
    from core.ingest import import_path

    with tempfile.TemporaryDirectory() as tmp:
        csv = make_csv(Path(tmp), rows, rows)
        t = time.perf_counter()
        report = import_path("csv", csv, dataset="bench-import")
        dt = time.perf_counter() - t
    return {"rows": rows, "seconds": round(dt, 2), "rows_per_s": round(rows / dt), "added": report.added}


def fill(n: int, batch: int = 50_000) -> int:
    """Insert n samples with labels straight through commit_samples (crop files not needed)."""
    from core.ingest.commit import commit_samples
    from core.ingest.records import PendingSample
    from core.rules import DerivationRules
    from core.store.datasets import get_or_create_dataset
    from core.store.db import write_session
    from core.taxonomy import AFFECTNET8

    rng = np.random.default_rng(1)
    t = time.perf_counter()
    for start in range(0, n, batch):
        va = rng.uniform(-1, 1, (batch, 2))
        q = rng.uniform(0, 1, batch)
        recs = [PendingSample(crop_sha256=f"{start + i:064d}", crop_path="crops/bench.png",
                              source_path="", emotion=AFFECTNET8[(start + i) % 8] if i % 5 else None,
                              valence=float(va[i, 0]), arousal=float(va[i, 1]), quality=float(q[i]),
                              subject=f"s{(start + i) % 5000}", split=("train", "val", "test")[i % 3])
                for i in range(min(batch, n - start))]
        with write_session() as s, s.begin():
            commit_samples(s, get_or_create_dataset(s, "bench-1m"), recs, rules=DerivationRules())
        print(f"  filled {start + len(recs):,} samples ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
    return n


def bench_queries(repeats: int = 30) -> dict:
    from core.store.datasets import require_dataset
    from core.store.db import read_session
    from core.store.queries import SampleFilter, page_samples

    with read_session() as s:
        ds = require_dataset(s, "bench-1m").id
    filters = {
        "dataset only": SampleFilter(dataset_id=ds),
        "emotion": SampleFilter(dataset_id=ds, emotions=["Happy"]),
        "split+emotion": SampleFilter(dataset_id=ds, splits=["val"], emotions=["Sad", "Fear"]),
        "emotion+V/A range": SampleFilter(dataset_id=ds, emotions=["Anger"], valence=(0.2, 0.6),
                                          arousal=(-0.5, 0.5)),
        "quality range": SampleFilter(dataset_id=ds, quality=(0.9, 1.0)),
        "source=derived (rare)": SampleFilter(dataset_id=ds, sources=["derived"]),
        "unlabelled": SampleFilter(dataset_id=ds, emotions=["none"]),
    }
    out = {}
    with read_session() as s:
        for name, flt in filters.items():
            times, after = [], None
            for r in range(repeats):
                t = time.perf_counter()
                page = page_samples(s, flt, limit=48, after_id=after if r % 2 else None,
                                    offset=(r * 48) if r % 5 == 4 else None)
                times.append((time.perf_counter() - t) * 1000)
                after = page[-1].id if page else None
            times.sort()
            out[name] = {"p50_ms": round(statistics.median(times), 2),
                         "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--import-rows", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep the filled store in this folder and reuse it on the next run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        os.environ["AFFECTLAB_DATA_DIR"] = str(where / "data")
        os.environ["AFFECTLAB_DB_URL"] = f"sqlite:///{where / 'bench.db'}"
        reuse = args.keep is not None and (where / "bench.db").exists()
        if args.import_rows:
            print("import:", bench_import(args.import_rows))
        if not reuse:
            t = time.perf_counter()
            fill(args.samples)
            print(f"fill: {args.samples:,} samples in {time.perf_counter() - t:.0f} s")
        from core.store.db import optimize

        t = time.perf_counter()
        optimize()  # what every import does after a bulk insert
        print(f"planner statistics (PRAGMA optimize): {time.perf_counter() - t:.1f} s")
        for name, r in bench_queries().items():
            print(f"query {name:24s} p50 {r['p50_ms']:8.2f} ms   p95 {r['p95_ms']:8.2f} ms")


if __name__ == "__main__":
    main()
