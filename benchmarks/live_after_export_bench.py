"""Live frames/s in a long-running server process before and after a model export (issue 11, item 3).

The process plays the server: it loads the Live page's predictor (core.catalog.load_predictor
"default", ONNX Runtime, 1 thread, shared) and pushes real 640x480 face frames through
core.live.LiveProcessor.process on a separate thread, as the WebRTC callback does. It then
exports models the way the Models page does now (core.export_model.export_in_subprocess: ONNX
and TorchScript of a fresh checkpoint, parity checks included, in a child process) and measures
again. --in-process also exports in this process afterwards (the old way, torch.export and its
caches in the server) and measures a third time, for contrast.

    python benchmarks/live_after_export_bench.py [--frames 60] [--repeats 5] [--in-process] [--json]

Frames/s per pass over the frames; reported as the median and the best of the repeats. On a
machine shared with other jobs the passes vary several-fold, so the verdict compares the best
passes (the least disturbed), as gemm_bench does. Goal: after / fresh >= 0.8.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import isolate, load_avg, quiet_native_logs, real_frames  # noqa: E402


def fps(processor, frames: list, repeats: int) -> dict[str, float]:
    """Median frames/s over `repeats` passes, each run on its own thread like the stream's."""
    rates: list[float] = []

    def one_pass() -> None:
        start = time.perf_counter()
        for f in frames:
            processor.process(f.copy())
        rates.append(len(frames) / (time.perf_counter() - start))

    for _ in range(repeats):
        t = threading.Thread(target=one_pass)
        t.start()
        t.join()
    return {"fps": round(statistics.median(rates), 2), "best": round(max(rates), 2),
            "runs": [round(r, 2) for r in rates], "load": round(load_avg(), 2)}


def copy_checkpoint(checkpoint: Path, name: str) -> Path:
    """A new checkpoint file in the models dir (so its export really runs, not found current)."""
    out = checkpoint.parent / f"{name}.pt"
    shutil.copy2(checkpoint, out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=60, help="frames per video (2 videos)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--in-process", action="store_true", help="also export in this process (the old way)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    quiet_native_logs()
    with tempfile.TemporaryDirectory() as tmp:
        isolate(Path(tmp))
        from core.catalog import load_predictor
        from core.export_model import export_in_subprocess, export_model
        from core.live import LiveProcessor
        from core.model.convert_fer import ensure_default_model

        checkpoint = ensure_default_model()
        processor = LiveProcessor(load_predictor("default", threads=1, shared=True))
        frames = real_frames(args.frames)
        processor.process(frames[0].copy())  # warm-up
        result = {"frames": len(frames), "repeats": args.repeats, "fresh": fps(processor, frames, args.repeats)}
        t = time.perf_counter()
        exported = [export_in_subprocess(copy_checkpoint(checkpoint, "bench_a"), fmt)["path"]
                    for fmt in ("onnx", "torchscript")]
        result["export_subprocess_s"] = round(time.perf_counter() - t, 1)
        result["after_subprocess_export"] = fps(processor, frames, args.repeats)
        result["exported"] = [Path(p).name for p in exported]
        if args.in_process:
            t = time.perf_counter()
            for fmt in ("onnx", "torchscript"):
                export_model(copy_checkpoint(checkpoint, "bench_b"), fmt)
            result["export_in_process_s"] = round(time.perf_counter() - t, 1)
            result["after_in_process_export"] = fps(processor, frames, args.repeats)
    fresh = result["fresh"]["best"]
    for key in ("after_subprocess_export", "after_in_process_export"):
        if key in result:
            result[key]["vs_fresh"] = round(result[key]["best"] / fresh, 3)
    result["within_20_percent"] = result["after_subprocess_export"]["vs_fresh"] >= 0.8
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{len(frames)} real 640x480 frames through LiveProcessor.process, {args.repeats} passes each")
    print("frames/s: best (median) of the passes")
    r = result["fresh"]
    print(f"  fresh process                 {r['best']:7.2f} ({r['fps']:.2f})  (load {r['load']})")
    r = result["after_subprocess_export"]
    print(f"  after export in a subprocess  {r['best']:7.2f} ({r['fps']:.2f})  = {r['vs_fresh']:.2f} x fresh "
          f"(exports took {result['export_subprocess_s']} s: {', '.join(result['exported'])})")
    if "after_in_process_export" in result:
        r = result["after_in_process_export"]
        print(f"  after export in this process  {r['best']:7.2f} ({r['fps']:.2f})  = {r['vs_fresh']:.2f} x fresh "
              f"(the old way; exports took {result['export_in_process_s']} s)")
    print(f"within 20% of fresh after the subprocess export: {result['within_20_percent']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
