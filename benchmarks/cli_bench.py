"""Whole-process time of the command line: `affectlab --help`, `stats` and `predict ONE_IMAGE --json`.

(`stats` reads a 4-face dataset imported once before the timing.)
Each command runs as a fresh process (interpreter start, imports, work, exit), median of N
runs after one untimed warm-up (which converts the default model and exports it to ONNX into
a temporary models dir). Goals (issue 10): --help <= 0.5 s, predict one image <= 2.0 s.

    python benchmarks/cli_bench.py [--runs 5] [--image PATH] [--json] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from common import isolate, load_avg  # noqa: E402

GOALS = {"help": 0.5, "predict": 2.0}  # seconds, median of the runs


def entry_point() -> list[str]:
    """The installed console script, else `python -m cli` (the same code)."""
    script = Path(sys.executable).with_name("affectlab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def timed(cmd: list[str], runs: int, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> dict:
    """Median / min / max seconds of `runs` fresh processes (after one warm-up run)."""
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode not in ok:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
        if i:  # the first run warms caches (and converts / exports the default model)
            times.append(time.perf_counter() - t)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "runs": runs}


def tiny_folder(root: Path) -> Path:
    """ROOT/<emotion>/<n>.png: four 64x64 gray images for the `folder` importer."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    for i, emotion in enumerate(("Happy", "Sad", "Anger", "Neutral")):
        (root / emotion).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / emotion / f"{i}.png"), rng.integers(0, 255, (64, 64), dtype=np.uint8))
    return root


def bench(tmp: Path, runs: int, image: Path) -> dict:
    isolate(tmp)
    env = {**os.environ, "AFFECTLAB_MODELS_DIR": str(tmp / "models")}
    cli = entry_point()
    subprocess.run([*cli, "import", "folder", str(tiny_folder(tmp / "faces")), "--dataset", "bench"],
                   cwd=REPO, env=env, capture_output=True, check=True, timeout=600)
    out = {"entry_point": " ".join(Path(c).name for c in cli), "load_avg_before": load_avg(),
           "help": timed([*cli, "--help"], runs, env),
           "stats": timed([*cli, "stats", "--dataset", "bench", "--json"], runs, env),
           "predict": timed([*cli, "predict", str(image), "--json"], runs, env)}
    out["load_avg_after"] = load_avg()
    out["goals"] = {k: {"goal_s": g, "met": out[k]["median_s"] <= g} for k, g in GOALS.items()}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--image", type=Path, default=None, help="default: the cached single_face.jpg asset")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="3 runs")
    args = p.parse_args()
    from core.assets import asset_path

    image = args.image or asset_path("single_face.jpg")
    tmp = Path(tempfile.mkdtemp(prefix="cli-bench-"))
    try:
        result = bench(tmp, 3 if args.quick else args.runs, image)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name in ("help", "stats", "predict"):
        r = result[name]
        goal = GOALS.get(name)
        verdict = "" if goal is None else f"  goal <= {goal} s: {'met' if r['median_s'] <= goal else 'NOT met'}"
        print(f"{name:8s} median {r['median_s']:.2f} s (min {r['min_s']:.2f}, max {r['max_s']:.2f}, "
              f"{r['runs']} runs){verdict}")
    print(f"({result['entry_point']}; load average before {result['load_avg_before']}, "
          f"after {result['load_avg_after']})")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
