"""Multi-label (EMOTIC-style) label store benchmark: import throughput and category-filtered pages.

Steps (SQLite; a fresh store in a temp folder, or --keep DIR to keep and reuse the filled store):
  fill     --samples EMOTIC-style samples (1 to 3 of the 26 categories each, Zipf-like category
           frequencies so some are common and some rare; V/A/D, quality, three splits) straight
           through core.ingest.commit.commit_samples in 50k batches, like store_bench's fill.
  import   --import-rows rows of an EMOTIC-style CSV (image_path, emotions as a JSON list,
           valence, arousal, dominance, subject) through core.ingest.import_path("csv", ...), the
           path the export round trip and plain EMOTIC CSVs take, into the filled store:
             first        stores the images (new crop files: read, hash, decode, write each)
             labels-only  the same CSV into a new dataset: crops already stored, so per row
                          read + hash, label parse, commit (the "crops already stored" case)
             unchanged    the same CSV again into that dataset (idempotent: nothing written)
             changed      every row's categories changed (a new imported row per sample; the
                          current label and the sample_categories rows recomputed)
           and the store's part alone: commit_samples of --import-rows PendingSamples (no files).
  queries  page_samples (48 rows, keyset) filtered on a common and a rare category, category +
           split, category + dominance range, two categories, a named-target range; p50/p95
           over 30 calls each (every other call a next page, every fifth an offset jump); and the
           Browse page's capped count on a common and a rare category.

    python benchmarks/multilabel_bench.py [--quick] [--samples 1000000] [--import-rows 100000]
                                          [--keep DIR] [--json]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import isolate  # noqa: E402
from store_bench import _import, make_csv, sqlite_copy, time_pages  # noqa: E402

DATASET = "bench-emotic"


def _categories(rng: np.random.Generator, n: int, classes: tuple[str, ...]) -> list[list[str]]:
    """1-3 categories per sample; category k drawn with weight 1/(k+1) (k=0 common, k=25 rare)."""
    weights = 1.0 / np.arange(1, len(classes) + 1)
    picks = rng.choice(len(classes), size=(n, 3), p=weights / weights.sum())
    counts = rng.integers(1, 4, n)
    return [[classes[k] for k in sorted(set(row[:c]))] for row, c in zip(picks.tolist(), counts)]


def _pending(start: int, size: int, rng: np.random.Generator, classes: tuple[str, ...], *, tag: str = "f"):
    from core.ingest.records import PendingSample

    cats = _categories(rng, size, classes)
    vad = rng.uniform(-1, 1, (size, 3))
    q = rng.uniform(0, 1, size)
    return [PendingSample(crop_sha256=f"{tag}{start + i:063d}", crop_path="crops/bench.png", source_path="",
                          emotions=cats[i], valence=float(vad[i, 0]), arousal=float(vad[i, 1]),
                          dominance=float(vad[i, 2]), quality=float(q[i]), subject=f"s{(start + i) % 5000}",
                          split=("train", "val", "test")[i % 3],
                          targets={"visibility": float(q[i])} if i % 2 else None)
            for i in range(size)]


def schema():
    """EMOTIC's schema plus a face-visibility score as a named target."""
    from core.label_schema import TargetSpec, emotic_schema

    return dataclasses.replace(emotic_schema(), targets=(TargetSpec("visibility", 0.0, 1.0),))


def fill(n: int, batch: int = 50_000) -> dict:
    from core.ingest.commit import commit_samples
    from core.store.datasets import get_or_create_dataset
    from core.store.db import write_session

    rng = np.random.default_rng(1)
    t = time.perf_counter()
    for start in range(0, n, batch):
        recs = _pending(start, min(batch, n - start), rng, schema().classes)
        with write_session() as s, s.begin():
            commit_samples(s, get_or_create_dataset(s, DATASET, schema=schema()), recs, rules=None)
        print(f"  filled {start + len(recs):,} samples ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
    dt = time.perf_counter() - t
    return {"samples": n, "seconds": round(dt, 1), "samples_per_s": round(n / dt)}


def emotic_csv(root: Path, rows: int, *, shift: int = 0) -> Path:
    """store_bench's PNGs with an EMOTIC-style label table (+ the schema file beside it)."""
    plain = make_csv(root, rows, rows) if not (root / "labels.csv").exists() else root / "labels.csv"
    rng = np.random.default_rng(2 + shift)
    cats = _categories(rng, rows, schema().classes)
    vad = rng.uniform(-1, 1, (rows, 3)).round(4)
    lines = ["image_path,emotions,valence,arousal,dominance,subject"]
    for i in range(rows):
        cell = json.dumps(cats[i]).replace('"', '""')
        lines.append(f'imgs/{i}.png,"{cell}",{vad[i, 0]},{vad[i, 1]},{vad[i, 2]},s{i % 500}')
    path = plain.with_name(f"emotic{shift}.csv")
    path.write_text("\n".join(lines) + "\n")
    path.with_name(f"emotic{shift}.schema.json").write_text(json.dumps(schema().to_dict()))
    return path


def bench_import(rows: int, work: Path) -> dict:
    from core.ingest.commit import commit_samples
    from core.store.datasets import get_or_create_dataset
    from core.store.db import write_session

    t = time.perf_counter()
    first, changed = emotic_csv(work, rows), emotic_csv(work, rows, shift=1)
    out: dict = {"csv_files_seconds": round(time.perf_counter() - t, 1)}
    tag = uuid.uuid4().hex[:8]
    out["first"] = _import(first, f"ml-{tag}-a")
    out["labels-only"] = _import(first, f"ml-{tag}-b")
    out["unchanged"] = _import(first, f"ml-{tag}-b")
    out["changed"] = _import(changed, f"ml-{tag}-b")
    recs = _pending(0, rows, np.random.default_rng(3), schema().classes, tag="c")
    t = time.perf_counter()
    with write_session() as s, s.begin():
        commit_samples(s, get_or_create_dataset(s, f"ml-{tag}-c", schema=schema()), recs, rules=None)
    dt = time.perf_counter() - t
    out["commit"] = {"rows": rows, "seconds": round(dt, 2), "rows_per_s": round(rows / dt)}
    return out


def bench_queries(repeats: int = 30) -> dict:
    from sqlalchemy import func, select

    from core.store.datasets import require_dataset
    from core.store.db import read_session
    from core.store.models import SampleCategory
    from core.store.queries import SampleFilter, count_samples

    with read_session() as s:
        ds = require_dataset(s, DATASET).id
        freq = dict(s.execute(select(SampleCategory.category, func.count()).where(
            SampleCategory.dataset_id == ds).group_by(SampleCategory.category)).all())
    common, rare = max(freq, key=freq.get), min(freq, key=freq.get)
    filters = {
        f"common category ({common}, {freq[common]:,})": SampleFilter(dataset_id=ds, categories=[common]),
        f"rare category ({rare}, {freq[rare]:,})": SampleFilter(dataset_id=ds, categories=[rare]),
        "rare category + split": SampleFilter(dataset_id=ds, categories=[rare], splits=["val"]),
        "rare category + dominance range": SampleFilter(dataset_id=ds, categories=[rare], dominance=(0.2, 0.6)),
        "two categories (any of)": SampleFilter(dataset_id=ds, categories=[rare, common]),
        "named target range": SampleFilter(dataset_id=ds, targets={"visibility": (0.9, 1.0)}),
    }
    out = time_pages(filters, repeats)
    out["worst_category_p95_ms"] = max(v["p95_ms"] for k, v in out.items() if "categor" in k)
    with read_session() as s:  # the Browse page's total: a count capped at 100,000 (app_pages/browse.py CAP)
        for name, cat in (("count common category (cap 100,000)", common), ("count rare category", rare)):
            times = []
            for _ in range(10):
                t = time.perf_counter()
                count_samples(s, SampleFilter(dataset_id=ds, categories=[cat]), cap=100_000)
                times.append((time.perf_counter() - t) * 1000)
            out[name] = {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--import-rows", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the filled store here and reuse it")
    ap.add_argument("--quick", action="store_true", help="20,000 samples, 2,000 import rows")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    samples, rows = (20_000, 2_000) if args.quick else (args.samples, args.import_rows)
    with tempfile.TemporaryDirectory(prefix="affectlab-mlbench-") as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        reuse = args.keep is not None and (where / "bench.db").exists()
        isolate(where)
        from core.store.db import dispose_all, get_engine, optimize

        get_engine()  # migrated to head
        result: dict = {"samples": samples, "import_rows": rows}
        result["fill"] = {"reused": str(where / "bench.db")} if reuse else fill(samples)
        if args.keep:  # imports and queries run on a copy, so the kept store stays as filled
            dispose_all()
            sqlite_copy(where / "bench.db", Path(tmp) / "work.db")
            os.environ["AFFECTLAB_DB_URL"] = f"sqlite:///{Path(tmp) / 'work.db'}"
        optimize()  # what every import does after a bulk insert
        result["queries"] = bench_queries()
        result["import"] = bench_import(rows, Path(tmp) / "in")
        dispose_all()
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
