"""Run every benchmark and write benchmarks/RESULTS.md (machine, versions, date, goal table).

    .venv/bin/python benchmarks/run_all.py [--quick] [--out benchmarks/RESULTS.md]
                                           [--store-dir DIR] [--postgres auto|URL|off]

Each benchmark is a script of its own (runnable alone, with --quick for a smoke run); this
runs them one after another as subprocesses with --json, keeps their printed output for the
report and reads their numbers from the JSON line. --quick uses small sizes everywhere (the
table then says so: its numbers are not the goals' conditions). The 1M-sample SQLite store is
kept in --store-dir (default /tmp/affectlab-bench/store-<samples>) and reused by later runs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from common import cpu_model, load_avg, ram_gib  # noqa: E402

PACKAGES = ("torch", "numpy", "onnxruntime", "opencv-contrib-python", "mediapipe", "ai-edge-litert",
            "SQLAlchemy", "psycopg", "streamlit", "pillow", "pandas")


WHEN: dict[str, str] = {}  # benchmark script -> when it started (for the report)


def now() -> str:
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def run(script: str, *args: str, timeout: int = 3600) -> tuple[dict | list | None, str, float]:
    """(parsed last JSON line, printed text without it, seconds) of one benchmark script."""
    WHEN[script] = f"{now()}, load average {load_avg()}"
    cmd = [sys.executable, str(HERE / script), *args, "--json"]
    print(f"$ {' '.join(cmd[1:])}", flush=True)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "GLOG_minloglevel": "2"})
    seconds = time.perf_counter() - t
    lines = proc.stdout.strip().splitlines()
    data = None
    if lines:
        try:
            data = json.loads(lines[-1])
            lines = lines[:-1]
        except json.JSONDecodeError:
            pass
    text = "\n".join(lines)
    if proc.returncode != 0:
        text += f"\n[exit {proc.returncode}] " + proc.stderr.strip()[-1500:]
    print(text, flush=True)
    return data, text, seconds


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def build_table(r: dict) -> list[tuple[str, str, str, str]]:
    """(what, goal, measured, met?) rows from the benchmarks' JSON."""
    rows: list[tuple[str, str, str, str]] = []
    live = r.get("live")
    if live:
        e = live["end_to_end"]
        d, nm, nv = e["live (default)"], e["live, no mesh"], e["naive baseline"]
        rows.append(("Live, 640x480 frame, 1 face: frames/s (Live page path: ORT 1 thread, BlazeFace + "
                     "mesh, smoothing, capture crop, overlays)", ">= 100 frames/s",
                     f"{fmt(d['fps'])} frames/s (p50 {d['ms_p50']} ms, p95 {d['ms_p95']} ms per frame)",
                     met(d["fps"] >= 100)))
        rows.append(("Live without the face mesh (Predictor(with_landmarks=False))", "(option)",
                     f"{fmt(nm['fps'])} frames/s", met(nm["fps"] >= 100)))
        rows.append(("Live vs naive baseline (torch eager per frame, Haar, no batching), same run",
                     ">= 5x", f"{live['speedup_vs_naive']}x ({fmt(d['fps'])} vs {fmt(nv['fps'])} frames/s)",
                     met(live["speedup_vs_naive"] >= 5)))
        rows.append(("Model vs physical limit: mini-Xception 64x64x1 = "
                     f"{live['mflops']} MFLOP / {live['gemm_gflops_1t']} GFLOP/s (1-thread GEMM)",
                     "compare", f"ORT {live['model']['ort_ms_p50']} ms per face vs bound "
                     f"{live['model_bound_ms']} ms = {live['ort_over_bound']}x", "n/a"))
    ing = r.get("ingest")
    if ing:
        rows.append(("Video ingest (decode, every frame sampled, detect, mesh, align, store): frames/s",
                     ">= 75 frames/s", f"{fmt(ing['default']['fps'])} frames/s "
                     f"({ing['default']['frames']} frames)", met(ing["default"]["fps"] >= 75)))
        rows.append(("Video ingest, landmarks=False", ">= 75 frames/s", f"{fmt(ing['no mesh']['fps'])} frames/s",
                     met(ing["no mesh"]["fps"] >= 75)))
    for store in r.get("store") or []:
        db = "SQLite" if store["db"].startswith("sqlite") else "PostgreSQL"
        if "error" in store:
            rows.append((f"[{db}] store benchmark", "-", f"not measured: {store['error']}", "n/a"))
            continue
        fill = store["fill"]
        if "samples" in fill:
            rows.append((f"[{db}] fill {fill['samples']:,} samples (commit_samples, 50k batches)",
                         "faster than ~6 min", f"{fill['seconds']} s ({fill['samples_per_s']:,} samples/s)",
                         met(fill["seconds"] < 360)))
        imp = store.get("import")
        if imp:
            for key, label in (("fresh", "fresh import, new image files"),
                               ("labels-only", "labels-only import, images already stored, new dataset"),
                               ("changed", "re-import of a changed CSV (every label changed)"),
                               ("unchanged", "re-import of the same CSV (no-op)")):
                v = imp[key]
                rows.append((f"[{db}] CSV {label} ({v['rows']:,} rows into a "
                             f"{store['samples_before_import']:,}-sample store)", ">= 50,000 rows/s",
                             f"{v['rows_per_s']:,} rows/s", met(v["rows_per_s"] >= 50_000)))
        q = store["queries"]
        rows.append((f"[{db}] filtered page query, 7 filters, p95 of the worst", "p95 <= 50 ms",
                     f"worst p95 {q['worst_p95_ms']} ms", met(q["worst_p95_ms"] <= 50)))
        for key, label in (("relabel_human", "human pace, ~1 s think time"),
                           ("relabel_paced", "stress: 50 ms think time"),
                           ("relabel_saturated", "stress: saturated, no think time")):
            if key not in store:
                continue
            x = store[key]
            if key == "relabel_human" and "relabel_single" in store:
                one = store["relabel_single"]
                rows.append((f"[{db}] relabel write, 1 annotator alone (no contention: the floor)", "(reference)",
                             f"p95 {one['p95_ms']} ms (p50 {one['p50_ms']} ms)", met(one["p95_ms"] <= 5)))
            rows.append((f"[{db}] relabel writes, 8 concurrent annotators ({label}), p95",
                         "p95 <= 5 ms", f"p95 {x['p95_ms']} ms (p50 {x['p50_ms']} ms; {x['writes_per_s']} writes/s)",
                         met(x["p95_ms"] <= 5)))
            rows.append((f"[{db}] conflicts detected ({label})", "every conflict detected, none lost",
                         f"{x['conflicts']} conflicts of {x['attempts']} attempts; lost updates "
                         f"{x['lost_updates']}, false conflicts {x['false_conflicts']}, errors {x['errors']}",
                         met(x["conflicts_correct"])))
    ml = r.get("multilabel")
    if ml:
        q = ml["queries"]
        rows.append((f"Multi-label (EMOTIC-style) page query filtered on a category at {ml['samples']:,} samples, "
                     "p95 of the worst of 5 category filters", "p95 <= 50 ms",
                     f"worst p95 {q['worst_category_p95_ms']} ms", met(q["worst_category_p95_ms"] <= 50)))
        rows.append(("Multi-label store: page filtered on a named-target range (JSON value per row)", "report",
                     f"p95 {q['named target range']['p95_ms']} ms", "n/a"))
        imp = ml["import"]
        for key, label in (("labels-only", "crops already stored, new dataset"),
                           ("changed", "every label changed"), ("commit", "commit path alone, no files")):
            v = imp[key]
            rows.append((f"Multi-label CSV import, {label} ({v['rows']:,} rows)", "report",
                         f"{v['rows_per_s']:,} rows/s", "n/a"))
    tr = r.get("train")
    if tr:
        for row in tr["rows"]:
            rows.append((f"Training {row['backbone']} {row['input']} batch {row['batch_size']} ({row['device']}, "
                         f"{row['threads']} threads)", "report", f"{fmt(row['images_per_s'])} images/s", "n/a"))
        if not tr["gpu"]:
            rows.append(("Training on GPU", "report", "not measured: no GPU on this machine and this task "
                         "was not lent a GPU machine", "n/a"))
    mem = r.get("memory")
    if mem:
        rows.append(("Peak RSS, app with the Live page running (LiveProcessor over "
                     f"{mem['live_processor']['frames']} frames + idle Streamlit server)", "report",
                     f"{fmt(mem['app_with_live_mib'], 0)} MiB ({fmt(mem['live_processor']['end_mib']['VmHWM'], 0)}"
                     f" + {fmt(mem['streamlit_idle']['VmHWM'], 0)})", "n/a"))
        if "browse" in mem:
            rows.append((f"Peak RSS, Browse page on a {mem['browse']['samples']:,}-sample store", "report",
                         f"{fmt(mem['browse']['peak_mib'], 0)} MiB", "n/a"))
    clip = r.get("clip")
    if clip:
        for e in clip["embed"]:
            rows.append((f"Clip embedding [{e['device']}] (2 s windows of a 640x360 face video, N=16: decode, "
                         "detect, track, align, backbone, store)", "report",
                         f"{fmt(e['frames_per_s'])} frames/s, {e['clips_per_s']} clips/s ({e['realtime_x']}x real time)",
                         "n/a"))
        for t in clip["train"]:
            rows.append((f"Clip model training, {t['kind']} [{t['device']}, {t['threads']} threads] "
                         "(16 x 128 embeddings, batch 32)", "report", f"{fmt(t['clips_per_s'])} clips/s", "n/a"))
        rows.append(("Clip audio images (PyAV + librosa MFCC)", "report",
                     f"{clip['audio']['clips_per_s']} clips/s", "n/a"))
    seek = r.get("video_seek")
    if seek:
        c = seek["clip_read"]
        rows.append(("Video seek: 1 s clip (16 frames) 50 s into a 60 s 640x360 video, decode from the start vs "
                     "keyframe seek (same frames)", "report",
                     f"{c['decode_from_start_s']} s -> {c['seek_s']} s ({c['speedup_x']}x)", "n/a"))
    noise = r.get("label_noise")
    if noise:
        for mode, m in noise["modes"].items():
            rows.append((f"Label issues, {mode}: {noise['n']} samples, 10% labels wrong, cross-validated "
                         f"(mean of {noise['seeds']} seeds)", "precision@5% well above chance 0.10",
                         f"precision@5% {m['precision_top']:.2f}, recall of the errors in the top 10% "
                         f"{m['recall_top_noise_rate']:.2f}", met(m["precision_top"] >= 0.5)))
    act = r.get("active_learning")
    if act:
        for name in ("margin+diversity", "entropy+diversity"):
            t = act["labels_to_target"][name]
            ratio = t["ratio_vs_random"]
            rows.append((f"Active learning ({name}) vs random order: labels to reach random's macro-F1 at "
                         f"{act['budget']} labels ({act['target_macro_f1']:.3f})", "fewer labels than random",
                         f"{t['labels']} labels" + (f" ({ratio:.2f}x)" if ratio is not None else ""),
                         met(ratio is not None and ratio < 1)))
    cli = r.get("cli")
    if cli:
        for key, what, goal in (("help", "`affectlab --help`", 0.5),
                                ("predict", "`affectlab predict ONE_IMAGE --json` (default model, ONNX)", 2.0)):
            m = cli[key]
            rows.append((f"{what}: whole process, median of {m['runs']}", f"<= {goal} s",
                         f"{m['median_s']:.2f} s (min {m['min_s']:.2f})", met(m["median_s"] <= goal)))
    return rows


def write_report(path: Path, r: dict, texts: dict[str, str], args, started: str, loads: tuple) -> None:
    v = versions()
    table = build_table(r)
    lines = [
        "# AffectLab benchmark results", "",
        f"Written by `benchmarks/run_all.py{' --quick' if args.quick else ''}` on {started} "
        f"(took {r['total_minutes']:.0f} min).",
        "**Quick mode: small sizes, NOT the goals' conditions.**" if args.quick else "",
        "",
        "When: " + "; ".join(", ".join(f"`{k}`" for k, w in r.get("when", {}).items() if w == v) + f": {v}"
                             for v in dict.fromkeys(r.get("when", {}).values())),
        "",
        "## Machine", "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores ({platform.machine()}), RAM {ram_gib():.1f} GiB, "
        f"{platform.system()} {platform.release()}",
        f"- Shared machine: 1-minute load average {loads[0]} at the start, {loads[1]} at the end "
        "(other engineers' tests and browsers run beside these benchmarks on 2 cores: every figure "
        "is a median over repeats, and every ratio compares medians taken in the same run)",
        "- GPU: none on this machine; this task was not lent a GPU machine, so no GPU figure is given",
        f"- OpenBLAS env: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}, "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')} (gemm_bench also measures numpy with both unset)",
        "",
        "## Versions", "",
        ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "## Results", "",
        "| What | Goal | Measured | Met? |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table]
    lines += ["", "## Output of each benchmark", ""]
    for name, text in texts.items():
        lines += [f"### {name}", "", "```", text.strip(), "```", ""]
    notes = HERE / "RESULTS_NOTES.md"
    if notes.exists():
        lines += [notes.read_text().strip(), ""]
    path.write_text("\n".join(lines))


def old_sections(report: Path) -> dict[str, str]:
    """The '### name' output blocks of an earlier RESULTS.md."""
    out, name, block, inside = {}, None, [], False
    for line in report.read_text().splitlines():
        if line.startswith("### "):
            name, block = line[4:].strip(), []
        elif line.strip() == "```" and name is not None:
            if inside:
                out[name], name = "\n".join(block), None
            inside = not inside
        elif inside:
            block.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    p.add_argument("--samples", type=int, default=1_000_000)
    p.add_argument("--import-rows", type=int, default=200_000)
    p.add_argument("--store-dir", type=Path, default=None)
    p.add_argument("--postgres", default="auto", help="auto (scripts/start_postgres.sh), a URL, or off")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite RESULTS.md from the last RESULTS.json (and RESULTS_NOTES.md), run nothing")
    p.add_argument("--only", nargs="*", default=None,
                   help="run only these (gemm live ingest store memory train cli clip video_seek label_noise active_learning); the others' "
                        "results are taken from the last RESULTS.json")
    args = p.parse_args(argv)
    if args.report_only:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        write_report(args.out, saved["results"], saved["texts"], args, saved.get("started", "?"),
                     tuple(saved.get("loads", ("?", "?"))))
        print(f"rewrote {args.out}")
        return 0
    quick = ["--quick"] if args.quick else []
    samples = 20_000 if args.quick else args.samples
    store_dir = args.store_dir or Path("/tmp/affectlab-bench") / f"store-{samples}"
    started = now()
    load0 = load_avg()
    t0 = time.perf_counter()
    results: dict = {}
    texts: dict[str, str] = {}
    todo = args.only or ["gemm", "live", "ingest", "store", "memory", "train", "cli", "clip", "video_seek",
                         "label_noise", "active_learning"]
    if "gemm" in todo:
        results["gemm"], texts["gemm_bench.py (GEMM throughput)"], _ = run("gemm_bench.py", *quick)
    if "live" in todo:
        gemm = results.get("gemm") or {}
        extra = ["--gemm-gflops", str(gemm["best_gflops_1_thread"])] if gemm else []
        results["live"], texts["live_bench.py (live pipeline)"], _ = run("live_bench.py", *quick, *extra)
    if "ingest" in todo:
        results["ingest"], texts["ingest_bench.py (video ingest)"], _ = run("ingest_bench.py", *quick)
    if "store" in todo:
        store_args = [*quick, "--keep", str(store_dir)]
        if not args.quick:
            store_args += ["--samples", str(args.samples), "--import-rows", str(args.import_rows)]
        if args.postgres != "off":
            store_args += ["--postgres", args.postgres]
            if not args.quick:
                store_args += ["--pg-import-rows", str(min(args.import_rows, 50_000))]
        results["store"], texts["store_bench.py (label store)"], _ = run("store_bench.py", *store_args,
                                                                          timeout=7200)
    if "multilabel" in todo:
        ml_args = [*quick, "--keep", str(store_dir.with_name(f"multilabel-{samples}"))]
        if not args.quick:
            ml_args += ["--samples", str(args.samples)]
        results["multilabel"], texts["multilabel_bench.py (multi-label store)"], _ = run(
            "multilabel_bench.py", *ml_args, timeout=7200)
    if "memory" in todo:
        mem_args = [*quick] + (["--store", str(store_dir)] if (store_dir / "bench.db").exists() else [])
        results["memory"], texts["memory_bench.py (peak RSS)"], _ = run("memory_bench.py", *mem_args)
    if "train" in todo:
        results["train"], texts["train_bench.py (training throughput)"], _ = run("train_bench.py", *quick)
    if "cli" in todo:
        results["cli"], texts["cli_bench.py (command-line start-up)"], _ = run("cli_bench.py", *quick)
    if "clip" in todo:
        results["clip"], texts["clip_bench.py (clip embedding and temporal training)"], _ = run(
            "clip_bench.py", *quick)
    if "video_seek" in todo:
        results["video_seek"], texts["video_seek_bench.py (keyframe seeking in the video reader)"], _ = run(
            "video_seek_bench.py", *quick)
    if "label_noise" in todo:
        results["label_noise"], texts["label_noise_bench.py (label issues on injected noise)"], _ = run(
            "label_noise_bench.py", *quick)
    if "active_learning" in todo:
        results["active_learning"], texts["active_learning_bench.py (active learning vs random order)"], _ = run(
            "active_learning_bench.py", *quick)
    results["total_minutes"] = (time.perf_counter() - t0) / 60
    results["when"] = dict(WHEN)
    previous = args.out.with_suffix(".json")
    if args.only and previous.exists():  # keep the other benchmarks' last results
        old = json.loads(previous.read_text())
        old_results = old.get("results", old)
        old_texts = old.get("texts") or (old_sections(args.out) if args.out.exists() else {})
        for key, value in old_results.items():
            results.setdefault(key, value)
        results["when"] = {**old_results.get("when", {}), **WHEN}
        texts = {**old_texts, **texts}
        results["total_minutes"] = old_results.get("total_minutes", 0) + results["total_minutes"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.out, results, texts, args, started, (load0, load_avg()))
    previous.write_text(json.dumps({"results": results, "texts": texts, "started": started,
                                    "loads": [load0, load_avg()], "quick": args.quick},
                                   indent=1, default=str))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
