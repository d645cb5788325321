"""Training images/s per backbone on CPU (training.bench.step_throughput: forward + masked
multi-task loss + backward + AdamW step on synthetic batches, no data loading), median of
several timings, torch on every core. A GPU figure is measured only where CUDA is available.

    python benchmarks/train_bench.py [--quick] [--repeats 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BACKBONES = ("mini_xception", "resnet18", "mobilenet_v2")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, nargs="+", default=None,
                   help="torch thread counts to measure (default: 1 and every core)")
    p.add_argument("--quick", action="store_true", help="batch 8, 3 steps, 1 repeat")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.batch_size, args.steps, args.repeats = 8, 3, 1
    import torch

    from training.bench import step_throughput

    threads = args.threads or sorted({1, os.cpu_count() or 1})
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        for n in (threads if device == "cpu" else [torch.get_num_threads()]):
            torch.set_num_threads(n)
            for name in BACKBONES:
                runs = [step_throughput(name, batch_size=args.batch_size, steps=args.steps, device=device)
                        for _ in range(args.repeats)]
                ips = [r["images_per_s"] for r in runs]
                rows.append({**runs[0], "device": device, "images_per_s": round(statistics.median(ips), 1),
                             "runs_images_per_s": ips,
                             "step_ms": round(statistics.median(r["step_ms"] for r in runs), 1)})
    print(f"torch {torch.__version__}, threads {threads}, batch {args.batch_size}, "
          f"{args.steps} timed steps x {args.repeats} repeats (median); load avg "
          f"{os.getloadavg()[0]:.1f}")
    for r in rows:
        print(f"  {r['device']:4s} {r['threads']}t {r['backbone']:14s} {r['input']:10s} {r['params']:>10,} params "
              f"{r['images_per_s']:8.1f} images/s  ({r['step_ms']} ms/step; runs {r['runs_images_per_s']})")
    if "cuda" not in devices:
        print("  GPU: not measured - no CUDA device on this machine, and this task was not lent a GPU machine")
    if args.json:
        print(json.dumps({"rows": rows, "gpu": "cuda" in devices}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
