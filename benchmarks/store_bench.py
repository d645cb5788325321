"""Label store benchmark at 1M samples: fill, CSV import rows/s, page queries, concurrent relabels.

Steps (SQLite by default; --postgres URL, or --postgres auto = scripts/start_postgres.sh, runs
the same against PostgreSQL):
  fill     --samples labelled samples (80% with an emotion, V/A, quality, 5000 subjects, three
           splits) straight through core.ingest.commit.commit_samples in 50k batches. With
           --keep DIR the store is kept and reused by later runs (fill skipped).
  import   --import-rows rows through core.ingest.import_path("csv", ...) into the same store
           (so indexes are at 1M scale; a --keep store is worked on in a copy, so it does not
           grow), each row its own 24x24 PNG:
             fresh        new dataset, new image files (read, SHA-256, decode, write each)
             unchanged    the same CSV again (idempotent: nothing written)
             changed      every row's emotion and V/A changed (a relabel of the whole CSV:
                          one imported + re-derived row per sample, current labels recomputed)
             labels-only  the changed CSV into a new dataset: images already in the store,
                          so per row: read + hash, no decode, no file write
  queries  filtered page queries (core.store.queries.page_samples), p50/p95 over 30 calls.
  relabel  8 annotator threads (the app serves every browser session from one process) edit
           random samples of a 200-sample hot set of the 1M store: read the head, then
           edit_label in a write transaction. Three loads: human pace (each annotator pauses
           0.5-1.5 s between reading a sample and saving, ~8 edits/s in all: still faster than
           people label), paced (25-75 ms pauses, ~130 edits/s) and saturated (no pause: a
           stress test). Latency is the write transaction
           (begin to commit); one annotator alone is measured first (the floor without
           contention). Afterwards every sample's chain of human rows is checked: each
           applied edit supersedes the previous head (no lost update) and every ConflictError
           named a base that another edit had really superseded.

    python benchmarks/store_bench.py [--quick] [--samples 1000000] [--import-rows 200000]
                                     [--keep DIR] [--postgres auto|URL] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_csv(root: Path, rows: int, distinct_images: int) -> Path:
    """A CSV of `rows` rows over `distinct_images` 24x24 PNGs (each row its own image when equal)."""
    rng = np.random.default_rng(0)
    (root / "imgs").mkdir(parents=True, exist_ok=True)
    base = rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)
    for i in range(distinct_images):
        img = base.copy()
        img.reshape(-1)[:4] = np.frombuffer(i.to_bytes(4, "little"), np.uint8)  # distinct content
        img[8:16, 8:16] = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
        ok, buf = cv2.imencode(".png", img)
        (root / "imgs" / f"{i}.png").write_bytes(buf.tobytes())
    lines = ["image_path,emotion,valence,arousal,subject"]
    va = rng.uniform(-1, 1, (rows, 2)).round(4)
    for i in range(rows):
        lines.append(f"imgs/{i % distinct_images}.png,{i % 8},{va[i, 0]},{va[i, 1]},s{i % 500}")
    path = root / "labels.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def changed_csv(src: Path, dst: Path) -> Path:
    """Every row's emotion code shifted by one and its V/A negated."""
    lines = src.read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        img, emo, v, a, subj = line.split(",")
        out.append(f"{img},{(int(emo) + 1) % 8},{-float(v)},{-float(a)},{subj}")
    dst.write_text("\n".join(out) + "\n")
    return dst


def _import(csv: Path, dataset: str) -> dict:
    from core.ingest import import_path

    t = time.perf_counter()
    report = import_path("csv", csv, dataset=dataset)
    dt = time.perf_counter() - t
    return {"rows": report.rows, "seconds": round(dt, 2), "rows_per_s": round(report.rows / dt),
            "added": report.added, "existing": report.existing, "relabelled": report.relabelled}


def bench_import(rows: int, work: Path) -> dict:
    """The four CSV imports of the module doc; image files in `work`, crops in a fresh data dir.
    They run on a working copy of the store (see run_store), so nothing needs deleting."""
    t = time.perf_counter()
    csv = make_csv(work / "in", rows, rows)
    made = time.perf_counter() - t
    changed = changed_csv(csv, csv.with_name("labels_changed.csv"))
    tag = uuid.uuid4().hex[:8]
    main, other = f"bench-import-{tag}", f"bench-import-{tag}-b"
    out = {"csv_files_seconds": round(made, 1)}
    out["fresh"] = _import(csv, main)
    out["unchanged"] = _import(csv, main)
    out["changed"] = _import(changed, main)
    out["labels-only"] = _import(changed, other)
    return out


def sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite store (WAL checkpointed first)."""
    import shutil
    import sqlite3

    con = sqlite3.connect(src)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(src, dst)


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
        size = min(batch, n - start)
        va = rng.uniform(-1, 1, (size, 2))
        q = rng.uniform(0, 1, size)
        recs = [PendingSample(crop_sha256=f"{start + i:064d}", crop_path="crops/bench.png",
                              source_path="", emotion=AFFECTNET8[(start + i) % 8] if i % 5 else None,
                              valence=float(va[i, 0]), arousal=float(va[i, 1]), quality=float(q[i]),
                              subject=f"s{(start + i) % 5000}", split=("train", "val", "test")[i % 3])
                for i in range(size)]
        with write_session() as s, s.begin():
            commit_samples(s, get_or_create_dataset(s, "bench-1m"), recs, rules=DerivationRules())
        print(f"  filled {start + len(recs):,} samples ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
    return n


def bench_queries(repeats: int = 30) -> dict:
    from core.store.datasets import require_dataset
    from core.store.db import read_session
    from core.store.queries import SampleFilter

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
    return time_pages(filters, repeats)


def time_pages(filters: dict, repeats: int = 30) -> dict:
    """p50/p95 ms of 48-row pages per filter: every other call the next page (keyset), every
    fifth an offset jump; and the worst p95."""
    from core.store.db import read_session
    from core.store.queries import page_samples

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
    out["worst_p95_ms"] = max(v["p95_ms"] for v in out.values())
    return out


def _annotator(worker: int, edits: int, ids: list[int], pause_s: float, barrier, out: list) -> None:
    from sqlalchemy import select

    from core.store.db import read_session, write_session
    from core.store.labels import ConflictError, edit_label
    from core.store.models import Sample
    from core.taxonomy import AFFECTNET8

    rng = random.Random(worker)
    barrier.wait()
    for _ in range(edits):
        sid = rng.choice(ids)
        with read_session() as s:  # what the Relabel page shows: the head the annotator saw
            base = s.scalar(select(Sample.cur_annotation_id).where(Sample.id == sid))
        if pause_s:
            time.sleep(pause_s * rng.uniform(0.5, 1.5))
        rec = {"worker": worker, "sample": sid, "base": base}
        t = time.perf_counter()
        try:
            with write_session() as s, s.begin():
                ann = edit_label(s, sid, base_annotation_id=base, annotator=f"bench-{worker}",
                                 emotion=AFFECTNET8[rng.randrange(8)], note="store_bench")
                ann_id = ann.id
            rec.update(outcome="applied", id=ann_id)
        except ConflictError:
            rec["outcome"] = "conflict"
        except Exception as exc:  # noqa: BLE001 - "database is locked" must show up, not crash
            rec.update(outcome="error", error=f"{type(exc).__name__}: {exc}")
        rec["ms"] = (time.perf_counter() - t) * 1000
        out.append(rec)


def bench_relabel(workers: int, edits: int, pause_s: float, hot: int = 200) -> dict:
    """Concurrent edit_label calls (see the module doc) and the conflict-detection check."""
    from sqlalchemy import select

    from core.store.db import read_session
    from core.store.models import Annotation, Sample

    with read_session() as s:
        top = s.scalar(select(Sample.id).order_by(Sample.id.desc()).limit(1)) or 0
        rng = random.Random(7)
        ids = sorted(rng.sample(range(1, top + 1), min(hot, top)))
        first = dict(s.execute(select(Sample.id, Sample.cur_annotation_id).where(Sample.id.in_(ids))).all())
    ids = [i for i in ids if i in first]
    barrier = threading.Barrier(workers)
    results: list[list[dict]] = [[] for _ in range(workers)]
    threads = [threading.Thread(target=_annotator, args=(w, edits, ids, pause_s, barrier, results[w]))
               for w in range(workers)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - t0
    recs = [r for rs in results for r in rs]
    applied = [r for r in recs if r["outcome"] == "applied"]
    conflicts = [r for r in recs if r["outcome"] == "conflict"]
    errors = [r for r in recs if r["outcome"] == "error"]
    # verify: per sample, applied edits in id order form one chain from the first head
    by_sample: dict[int, list[dict]] = {}
    for r in applied:
        by_sample.setdefault(r["sample"], []).append(r)
    lost = 0
    superseded: set[tuple[int, int | None]] = set()
    for sid, rows in by_sample.items():
        head = first[sid]
        for r in sorted(rows, key=lambda r: r["id"]):
            if r["base"] != head:
                lost += 1
            superseded.add((sid, r["base"]))
            head = r["id"]
    false_conflicts = sum(1 for r in conflicts if (r["sample"], r["base"]) not in superseded)
    with read_session() as s:  # the stored heads are the last applied edit of each sample
        heads = dict(s.execute(select(Sample.id, Sample.cur_annotation_id).where(Sample.id.in_(ids))).all())
        stored = s.scalar(select(Annotation.id).where(Annotation.note == "store_bench")
                          .order_by(Annotation.id.desc()).limit(1))
    wrong_heads = sum(1 for sid, rows in by_sample.items() if heads[sid] != max(r["id"] for r in rows))
    ms = sorted(r["ms"] for r in applied + conflicts)
    app_ms = sorted(r["ms"] for r in applied) or [float("nan")]
    return {"workers": workers, "attempts": len(recs), "applied": len(applied),
            "conflicts": len(conflicts), "errors": len(errors), "error_examples": [r["error"] for r in errors[:3]],
            "lost_updates": lost, "false_conflicts": false_conflicts, "wrong_heads": wrong_heads,
            "conflicts_correct": lost == 0 and false_conflicts == 0 and wrong_heads == 0 and not errors,
            "writes_per_s": round(len(recs) / seconds, 1), "pause_ms": pause_s * 1000,
            "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
            "applied_p95_ms": round(app_ms[int(0.95 * (len(app_ms) - 1))], 2),
            "max_ms": round(ms[-1], 2), "last_annotation": stored}


def start_postgres() -> str:
    """scripts/start_postgres.sh on its own folder and port (leaves other servers alone)."""
    folder = os.environ.get("AFFECTLAB_BENCH_PG_DIR", "/tmp/affectlab-bench-pg")
    port = os.environ.get("AFFECTLAB_BENCH_PG_PORT", "55471")
    out = subprocess.run(["bash", str(REPO / "scripts" / "start_postgres.sh"), folder, port],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"start_postgres.sh failed: {out.stderr.strip()[-300:]}")
    return out.stdout.strip().splitlines()[-1]


def stop_postgres() -> None:
    folder = os.environ.get("AFFECTLAB_BENCH_PG_DIR", "/tmp/affectlab-bench-pg")
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if bins:
        subprocess.run(["su", "postgres", "-c", f"{bins[-1]}/pg_ctl -D '{folder}' -m fast stop"],
                       capture_output=True, timeout=60)


def reset_postgres(url: str) -> None:
    """An empty schema (the bench database is ours alone)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def run_store(db_url: str, args, work: Path, *, reuse: bool, working_copy: Path | None = None) -> dict:
    """Fill (unless reused), then optimize, imports, queries and relabels; with working_copy
    (SQLite --keep) those run on a copy of the filled store, which is deleted afterwards."""
    os.environ["AFFECTLAB_DB_URL"] = db_url
    from core.store.db import dispose_all, get_engine, optimize

    dispose_all()
    get_engine()  # migrate
    out: dict = {"db": db_url.split(":", 1)[0]}
    if not reuse:
        t = time.perf_counter()
        fill(args.samples)
        dt = time.perf_counter() - t
        out["fill"] = {"samples": args.samples, "seconds": round(dt, 1), "samples_per_s": round(args.samples / dt)}
    else:
        out["fill"] = {"reused": db_url}
    if working_copy is not None:
        dispose_all()
        t = time.perf_counter()
        sqlite_copy(Path(db_url.split("///", 1)[1]), working_copy)
        out["copy_seconds"] = round(time.perf_counter() - t, 1)
        os.environ["AFFECTLAB_DB_URL"] = f"sqlite:///{working_copy}"
    t = time.perf_counter()
    optimize()  # what every import does after a bulk insert
    out["optimize_seconds"] = round(time.perf_counter() - t, 2)
    from sqlalchemy import func, select

    from core.store.db import read_session
    from core.store.models import Sample

    with read_session() as s:
        out["samples_before_import"] = int(s.scalar(select(func.count()).select_from(Sample)) or 0)
    if args.import_rows:
        out["import"] = bench_import(args.import_rows, work)
    out["queries"] = bench_queries()
    out["relabel_single"] = bench_relabel(1, args.edits, 0.0)  # the floor: no contention at all
    out["relabel_saturated"] = bench_relabel(8, args.edits, 0.0)
    out["relabel_paced"] = bench_relabel(8, max(10, args.edits // 4), 0.05)
    out["relabel_human"] = bench_relabel(8, max(5, args.edits // 10), 1.0)
    with read_session() as s:
        out["store_samples"] = int(s.scalar(select(func.count()).select_from(Sample)) or 0)
    if working_copy is not None:
        dispose_all()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{working_copy}{suffix}").unlink(missing_ok=True)
    return out


def print_store(r: dict) -> None:
    print(f"[{r['db']}] store holds {r['store_samples']:,} samples")
    f = r["fill"]
    if "reused" in f:
        print(f"  fill: reused {f['reused']} (worked on a copy, made in {r.get('copy_seconds')} s)")
    else:
        print(f"  fill: {f['samples']:,} samples in {f['seconds']} s = {f['samples_per_s']:,} samples/s")
    print(f"  planner statistics (PRAGMA optimize / ANALYZE): {r['optimize_seconds']} s")
    if "import" in r:
        imp = r["import"]
        for k in ("fresh", "unchanged", "changed", "labels-only"):
            v = imp[k]
            print(f"  CSV import {k:12s} {v['rows']:>9,} rows in {v['seconds']:7.2f} s = {v['rows_per_s']:>7,} rows/s "
                  f"(added {v['added']:,}, existing {v['existing']:,}, relabelled {v['relabelled']:,})")
    for name, q in r["queries"].items():
        if name != "worst_p95_ms":
            print(f"  query {name:24s} p50 {q['p50_ms']:8.2f} ms   p95 {q['p95_ms']:8.2f} ms")
    for key in ("relabel_single", "relabel_saturated", "relabel_paced", "relabel_human"):
        x = r[key]
        print(f"  {key}: {x['workers']} annotators, {x['attempts']} attempts ({x['writes_per_s']}/s), applied "
              f"{x['applied']}, conflicts {x['conflicts']}, errors {x['errors']}; write p50 {x['p50_ms']} ms, "
              f"p95 {x['p95_ms']} ms, max {x['max_ms']} ms; lost updates {x['lost_updates']}, false "
              f"conflicts {x['false_conflicts']}, wrong heads {x['wrong_heads']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--import-rows", type=int, default=200_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--edits", type=int, default=200, help="edit attempts per annotator (saturated run)")
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep the filled SQLite store in this folder and reuse it on the next run")
    ap.add_argument("--postgres", default=None, help="'auto' (scripts/start_postgres.sh) or a URL")
    ap.add_argument("--pg-samples", type=int, default=None, help="samples for PostgreSQL (default --samples)")
    ap.add_argument("--pg-import-rows", type=int, default=None,
                    help="import rows for PostgreSQL (default --import-rows)")
    ap.add_argument("--quick", action="store_true", help="20k samples, 5k import rows, 40 edits")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.samples, args.import_rows, args.edits = 20_000, 5_000, 40
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        os.environ["AFFECTLAB_DATA_DIR"] = str(Path(tmp) / "data")  # crops of the import runs
        sqlite_url = f"sqlite:///{where / 'bench.db'}"
        reuse = args.keep is not None and (where / "bench.db").exists()
        results.append(run_store(sqlite_url, args, Path(tmp) / "sqlite", reuse=reuse,
                                 working_copy=Path(tmp) / "work.db" if args.keep else None))
        print_store(results[-1])
        if args.postgres:
            started = False
            try:
                url = start_postgres() if args.postgres == "auto" else args.postgres
                started = args.postgres == "auto"
                reset_postgres(url)
                pg_args = argparse.Namespace(**{**vars(args), "samples": args.pg_samples or args.samples,
                                                "import_rows": args.pg_import_rows or args.import_rows})
                os.environ["AFFECTLAB_DATA_DIR"] = str(Path(tmp) / "data-pg")
                results.append(run_store(url, pg_args, Path(tmp) / "pg", reuse=False))
                print_store(results[-1])
            except Exception as exc:  # noqa: BLE001 - report, keep the SQLite numbers
                print(f"[postgresql] not measured: {type(exc).__name__}: {exc}")
                results.append({"db": "postgresql", "error": f"{type(exc).__name__}: {exc}"})
            finally:
                from core.store.db import dispose_all

                dispose_all()
                if started:
                    stop_postgres()
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
