"""Training-step throughput per backbone on synthetic batches: `python -m training.bench`."""
from __future__ import annotations

import argparse
import json
import os
import time

import torch

from core.model.config import ModelConfig
from core.model.net import build_model
from training.losses import MultiTaskLoss


def step_throughput(backbone: str, *, batch_size: int = 32, steps: int = 10, warmup: int = 3,
                    device: str = "cpu", n_classes: int = 8) -> dict:
    """Images/s of forward + masked multi-task loss + backward + AdamW step (no data loading)."""
    mc = ModelConfig.for_backbone(backbone, classes=[f"c{i}" for i in range(n_classes)])
    model = build_model(mc).to(device).train()
    loss_fn = MultiTaskLoss(va_loss="both")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, mc.channels, mc.input_size, mc.input_size, generator=g).to(device)
    targets = {"emotion": torch.randint(0, n_classes, (batch_size,), generator=g).to(device),
               "va": (torch.rand(batch_size, 2, generator=g) * 2 - 1).to(device),
               "stress": torch.rand(batch_size, 1, generator=g).to(device)}
    for i in range(warmup + steps):
        if i == warmup:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        loss, _ = loss_fn(model(x), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    return {"backbone": backbone, "input": f"{mc.input_size}x{mc.input_size}x{mc.channels}",
            "params": params, "batch_size": batch_size, "images_per_s": round(steps * batch_size / dt, 1),
            "step_ms": round(1000 * dt / steps, 1), "threads": torch.get_num_threads()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.bench")
    p.add_argument("--backbones", default="mini_xception,resnet18,mobilenet_v2")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    p.add_argument("--repeats", type=int, default=1, help="report the best of N timings")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps({"load_avg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}))
    for name in args.backbones.split(","):
        runs = [step_throughput(name, batch_size=args.batch_size, steps=args.steps,
                                device=args.device) for _ in range(args.repeats)]
        best = max(runs, key=lambda r: r["images_per_s"])
        print(json.dumps(best | {"all_images_per_s": [r["images_per_s"] for r in runs]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
