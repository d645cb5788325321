"""Live pipeline per 640x480 frame with one face: stage times, frames/s, naive baseline, FLOP bound.

Frames: real frames of the bundled face videos (single_face.mp4, WolfgangLanger_Pexels.mp4),
letterboxed to 640x480. Configurations, each through core.live.LiveProcessor.process (what the
Live page's WebRTC callback runs: predict_frame on the short range, whose canonical crop feeds
both the model and capture -> smoothing -> overlays):

  live (default)  the Live page's predictor: core.catalog.load_predictor("default", backend="auto",
                  threads=1) = ONNX Runtime, 1 intra-op thread, BlazeFace, with the face mesh
  live, no mesh   the same model and detector, Predictor(with_landmarks=False)
  naive baseline  torch eager model per frame (1 torch thread: with 2 it is ~3x slower on this
                  loaded box, which would flatter the ratio), OpenCV Haar detection
                  (core.faces.haar), no mesh, no batching; it runs on every 5th frame of the
                  set (Haar costs 50-200 ms a frame here), which does not change frames/s

Configurations run round-robin (one pass over every frame each, per repeat) so machine load
hits them alike; frames/s is the median over repeats, and ratios are of medians of this run.
A stage pass then times each stage of the default configuration separately (detection, mesh,
quality + alignment, model = preprocess + ONNX Runtime + postprocess, smoothing, overlay).

The physical limit: mini-Xception's multiply-accumulates at 64x64x1 are counted with forward
hooks on every Conv2d/Linear (2 FLOPs per MAC); divided by this CPU's GEMM throughput
(benchmarks/gemm_bench.py, fastest run) that gives the model's lower bound per face.

    python benchmarks/live_bench.py [--quick] [--frames 150] [--repeats 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import isolate, quiet_native_logs, real_frames  # noqa: E402


def count_macs(model, shape: tuple[int, ...]) -> dict:
    """Multiply-accumulates of one forward pass, by layer kind (Conv2d incl. depthwise, Linear)."""
    import torch

    totals = {"conv": 0, "depthwise": 0, "pointwise": 0, "linear": 0}
    hooks = []

    def conv_hook(mod, _inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        macs = out.numel() * k
        if mod.groups > 1 and mod.groups == mod.in_channels:
            totals["depthwise"] += macs
        elif mod.kernel_size == (1, 1):
            totals["pointwise"] += macs
        else:
            totals["conv"] += macs

    def linear_hook(mod, _inp, out):
        totals["linear"] += out.numel() * mod.in_features

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.inference_mode():
        model(torch.zeros(shape))
    for h in hooks:
        h.remove()
    totals["total"] = sum(totals.values())
    totals["params"] = sum(p.numel() for p in model.parameters())
    return totals


def build(checkpoint: Path) -> dict:
    """name -> LiveProcessor factory arguments (predictor), as described in the module doc."""
    import torch

    from core.catalog import load_predictor
    from core.faces import FacePipeline
    from core.inference import Predictor

    torch.set_num_threads(1)  # the naive baseline's torch (ONNX Runtime has its own setting)
    live = load_predictor("default", backend="auto", threads=1, shared=True)
    assert live.backend == "onnx", live
    no_mesh = Predictor(checkpoint, backend="onnx", threads=1, with_landmarks=False)
    naive = Predictor(checkpoint, backend="torch", pipeline=FacePipeline(
        with_landmarks=False, backend="haar"))
    return {"live (default)": live, "live, no mesh": no_mesh, "naive baseline": naive}


def end_to_end(predictors: dict, frames: list, repeats: int) -> dict:
    """Median frames/s of LiveProcessor.process per configuration (round-robin repeats)."""
    from core.live import LiveProcessor

    procs = {name: LiveProcessor(p) for name, p in predictors.items()}
    for proc in procs.values():  # warm up: models, thread pools, caches
        for f in frames[:10]:
            proc.process(f.copy())
    per_frame: dict[str, list[float]] = {n: [] for n in procs}
    fps: dict[str, list[float]] = {n: [] for n in procs}
    faces: dict[str, int] = {n: 0 for n in procs}
    subset = {n: frames[::5] if n == "naive baseline" else frames for n in procs}
    for _ in range(repeats):
        for name, proc in procs.items():
            copies = [f.copy() for f in subset[name]]  # the processor draws into its frame
            start = time.perf_counter()
            for frame in copies:
                t = time.perf_counter()
                proc.process(frame)
                per_frame[name].append(time.perf_counter() - t)
            fps[name].append(len(copies) / (time.perf_counter() - start))
            snap = proc.results.latest()
            assert snap is not None and snap.error is None, snap and snap.error
    for name, proc in procs.items():  # detection rate over one more pass (not timed)
        faces[name] = sum(1 for f in subset[name] if proc.predictor.predict_frame(f.copy()))
    out = {}
    for name in procs:
        ms = sorted(per_frame[name])
        out[name] = {"fps": round(statistics.median(fps[name]), 1),
                     "fps_runs": [round(v, 1) for v in fps[name]],
                     "ms_p50": round(1000 * statistics.median(ms), 3),
                     "ms_p95": round(1000 * ms[int(0.95 * (len(ms) - 1))], 3),
                     "frames_with_face": f"{faces[name]}/{len(subset[name])}"}
    return out


def stages(predictor, frames: list, repeats: int) -> dict:
    """Median ms per frame of each stage of LiveProcessor.process, timed one by one."""
    from core.live import STREAM_DETECTOR, Smoother
    from core.overlay import OverlayOptions, draw_overlays

    pipe = predictor.pipeline_for(STREAM_DETECTOR)
    smoother = Smoother(0.6)
    names = ("detect", "mesh", "align+quality", "model", "smooth", "overlay")
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(repeats):
        for frame in frames:
            frame = frame.copy()
            t0 = time.perf_counter()
            faces = pipe.detector.detect(frame)
            t1 = time.perf_counter()
            refined = [r for r in (pipe.refine(frame, f) for f in faces) if r is not None]
            t2 = time.perf_counter()
            found = [pipe.crop(frame, f) for f in refined]  # one canonical crop: model + capture
            t3 = time.perf_counter()
            preds = predictor._predict([f.crop for f in found], [f.face for f in found])
            t4 = time.perf_counter()
            preds = smoother(preds)
            t5 = time.perf_counter()
            draw_overlays(frame, preds, OverlayOptions())
            t6 = time.perf_counter()
            for n, a, b in zip(names, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
                times[n].append(b - a)
    out = {n: round(1000 * statistics.median(v), 3) for n, v in times.items()}
    out["sum of stage medians"] = round(sum(out.values()), 3)
    return out


def model_only(predictor, frames: list, repeats: int) -> dict:
    """Median ms of the ONNX Runtime call alone on one preprocessed face (batch 1)."""
    from core.model.preprocess import preprocess

    crops = [c.crop for f in frames[:20] for c in predictor.pipeline.process(f)]
    x = preprocess(crops[:1], predictor.config).numpy()
    for _ in range(20):
        predictor.forward(x)
    t = []
    for _ in range(max(200, repeats * 100)):
        s = time.perf_counter()
        predictor.forward(x)
        t.append(time.perf_counter() - s)
    return {"ort_ms_p50": round(1000 * statistics.median(t), 4),
            "ort_ms_best": round(1000 * min(t), 4)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=150, help="frames taken from each video")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="20 frames per video, 2 repeats")
    p.add_argument("--gemm-gflops", type=float, default=None,
                   help="skip the GEMM measurement and use this GFLOP/s (1 thread)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.frames, args.repeats = 20, 2
    quiet_native_logs()
    with tempfile.TemporaryDirectory() as tmp:
        isolate(Path(tmp))
        from core.model.convert_fer import ensure_default_model

        checkpoint = ensure_default_model()
        frames = real_frames(args.frames)
        predictors = build(checkpoint)
        e2e = end_to_end(predictors, frames, args.repeats)
        stage = stages(predictors["live (default)"], frames, max(1, args.repeats // 2))
        stage_nomesh = stages(predictors["live, no mesh"], frames, max(1, args.repeats // 2))
        ort = model_only(predictors["live (default)"], frames, args.repeats)
        from core.model.checkpoint import load_checkpoint

        model, config, _ = load_checkpoint(checkpoint)
        macs = count_macs(model.eval(), (1, config.channels, config.input_size, config.input_size))
    if args.gemm_gflops is None:
        from gemm_bench import measure_both

        g = measure_both(512 if args.quick else 1024, 8 if args.quick else 30)
        gemm = g["best_gflops_1_thread"]
    else:
        gemm = args.gemm_gflops
    flops = 2 * macs["total"]
    bound_ms = flops / (gemm * 1e9) * 1000
    live, naive = e2e["live (default)"], e2e["naive baseline"]
    result = {
        "frames": len(frames), "repeats": args.repeats, "end_to_end": e2e,
        "speedup_vs_naive": round(live["fps"] / naive["fps"], 2),
        "speedup_no_mesh_vs_naive": round(e2e["live, no mesh"]["fps"] / naive["fps"], 2),
        "stages_ms": stage, "stages_no_mesh_ms": stage_nomesh, "model": ort,
        "macs": macs, "mflops": round(flops / 1e6, 2), "gemm_gflops_1t": gemm,
        "model_bound_ms": round(bound_ms, 4),
        "ort_over_bound": round(ort["ort_ms_p50"] / bound_ms, 1),
    }
    print(f"{len(frames)} real 640x480 frames (letterboxed), {args.repeats} round-robin repeats")
    for name, r in e2e.items():
        print(f"  {name:16s} {r['fps']:7.1f} frames/s  (p50 {r['ms_p50']:.2f} ms, p95 "
              f"{r['ms_p95']:.2f} ms per frame; faces {r['frames_with_face']}; runs {r['fps_runs']})")
    print(f"  live (default) / naive baseline = {result['speedup_vs_naive']}x; "
          f"no mesh / naive = {result['speedup_no_mesh_vs_naive']}x")
    print("stage medians, ms per frame (default / no mesh):")
    for n in stage:
        print(f"  {n:22s} {stage[n]:7.3f} / {stage_nomesh[n]:7.3f}")
    print(f"model: ONNX Runtime call p50 {ort['ort_ms_p50']} ms (best {ort['ort_ms_best']} ms); "
          f"mini-Xception 64x64x1: {macs['total'] / 1e6:.2f} M MACs = {result['mflops']} MFLOP "
          f"(depthwise {macs['depthwise'] / 1e6:.2f} M, pointwise {macs['pointwise'] / 1e6:.2f} M, "
          f"dense conv {macs['conv'] / 1e6:.2f} M MACs), {macs['params']:,} params")
    print(f"physical limit: {result['mflops']} MFLOP / {gemm} GFLOP/s (1-thread GEMM) = "
          f"{bound_ms:.4f} ms per face; ONNX Runtime is {result['ort_over_bound']}x that")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
