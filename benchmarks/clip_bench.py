"""Clip throughput on a real face video: embedding (sample 16 frames, detect, track, align, backbone,
store) in frames/s and clips/s, audio images in clips/s, and temporal-model training in clips/s
(transformer vs the mean-pooling baseline; synthetic 16 x 128 embeddings). CPU, and CUDA when present.

    python benchmarks/clip_bench.py [--quick] [--clips 9] [--threads 1] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import REPO, isolate  # noqa: E402

VIDEO = "WolfgangLanger_Pexels.mp4"  # 640x360, 24 fps, 19.7 s, one talking face, audio


def embed_throughput(n_clips: int, seconds: float, device: str, repeats: int) -> dict:
    """Embed n_clips consecutive windows of the real video (fresh store each repeat: no resume)."""
    from core.assets import asset_path
    from core.clips.arrays import ArrayStore
    from core.clips.embed import ClipEmbedJob, ClipJob, FrameEmbedder
    from core.clips.sampling import SamplingRule

    video = str(asset_path(VIDEO))
    jobs = [ClipJob(video, i * seconds, (i + 1) * seconds) for i in range(n_clips)]
    embedder = FrameEmbedder(device=device, batch_size=64)
    times, faces = [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["AFFECTLAB_DATA_DIR"] = str(Path(tmp) / "data")
            job = ClipEmbedJob(embedder, SamplingRule.even(16))
            with ArrayStore() as store:
                t = time.perf_counter()
                results = job.embed(jobs, store)
                times.append(time.perf_counter() - t)
            job.close()
        faces = sum(sum(x.mask) for x in results)
    s = statistics.median(times)
    return {"device": device, "clips": n_clips, "clip_seconds": seconds, "frames": 16 * n_clips,
            "faces": faces, "seconds": round(s, 3), "frames_per_s": round(16 * n_clips / s, 1),
            "clips_per_s": round(n_clips / s, 2), "realtime_x": round(n_clips * seconds / s, 1),
            "embedder": embedder.version, "runs_s": [round(x, 3) for x in times]}


def backbone_throughput(device: str, repeats: int) -> dict:
    """The backbone alone on 256 aligned crops (batch 64): frames/s of the model itself."""
    import numpy as np

    from core.clips.embed import FrameEmbedder

    embedder = FrameEmbedder(device=device, batch_size=64)
    crops = np.random.default_rng(0).integers(0, 255, (256, 112, 112, 3), dtype=np.uint8)
    embedder(crops[:64])  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        embedder(crops)
        times.append(time.perf_counter() - t)
    return {"device": device, "frames_per_s": round(256 / statistics.median(times), 1)}


def audio_throughput(n_clips: int, seconds: float) -> dict:
    from core.assets import asset_path
    from core.audio import AudioParams, clip_audio

    video = asset_path(VIDEO)
    clip_audio(video, AudioParams(), start=0.0, end=seconds)  # librosa / numba warm-up
    t = time.perf_counter()
    present = sum(clip_audio(video, AudioParams(), start=i * seconds, end=(i + 1) * seconds).present
                  for i in range(n_clips))
    s = time.perf_counter() - t
    return {"clips": n_clips, "with_audio": present, "clips_per_s": round(n_clips / s, 1)}


def train_throughput(kind: str, device: str, clips: int, epochs: int) -> dict:
    import numpy as np
    import torch

    from core.label_schema import mosei_schema
    from core.model.clip_checkpoint import build_clip_model
    from core.model.clip_config import ClipConfig
    from training.clip_data import ClipData
    from training.clip_train import ClipTrainOptions, train_clip_model

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(clips, 16, 128)).astype(np.float32)
    emb[rng.random((clips, 16)) < 0.1] = np.nan
    dist = rng.dirichlet(np.ones(6), clips).astype(np.float32)
    va = rng.uniform(-1, 1, (clips, 2)).astype(np.float32)
    data = ClipData.from_arrays(list(emb), {"emotion": dist, "va": va})
    config = ClipConfig(kind=kind, schema=mosei_schema().to_dict(), tasks=["emotion", "va"], frames=16,
                        input_dim=128, d_model=128, layers=2, heads=4)
    model = build_clip_model(config)
    _, history = train_clip_model(model, data, options=ClipTrainOptions(epochs=epochs, batch_size=32,
                                                                        device=device))
    rates = [h["clips_per_s"] for h in history[1:]] or [history[0]["clips_per_s"]]
    return {"kind": kind, "device": device, "threads": torch.get_num_threads(),
            "params": sum(p.numel() for p in model.parameters()),
            "clips_per_s": round(statistics.median(rates), 1)}


def predict_e2e(seconds: float = 15.0, window: float | None = 3.0, threads: tuple[int, ...] = (1, 2),
                repeats: int = 2) -> dict:
    """`predict VIDEO --clip` on the first `seconds` of the real video (stream copy, 640x360), a
    16-frame transformer over the default model's embeddings: the model, face pipeline and
    embedder loaded (and warmed up: the first call is not timed), then the timed call (sample,
    detect, track, embed, model) per torch thread count, wall and process CPU seconds (CPU time
    is what a busy shared machine changes least); the same call with the sampler decoding every
    frame from the start (seek=False, in this run); the face-mesh variant; then the render."""
    import functools
    import subprocess

    import torch

    import core.clips.predict as clip_predict
    from core.assets import asset_path
    from core.clips.embed import FrameEmbedder
    from core.clips.render import render_video
    from core.clips.sampling import sample_spans
    from core.faces import FacePipeline
    from core.model.clip_checkpoint import build_clip_model, save_clip_model
    from core.model.clip_config import ClipConfig

    work = Path(tempfile.mkdtemp(prefix="clip_e2e_"))
    video = work / "cut.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(asset_path(VIDEO)), "-t", str(seconds), "-c", "copy",
                    str(video)], check=True)
    embedder = FrameEmbedder(None, device="cpu")
    config = ClipConfig(kind="transformer", frames=16, input_dim=embedder.dim, embedder=embedder.version)
    ckpt = save_clip_model(work / "clip.pt", build_clip_model(config))

    def best_of(runner, pipeline) -> tuple[float, float, list, dict]:
        clip_predict.predict_clip_video(video, runner, embedder=embedder, pipeline=pipeline, window=window)  # warm-up
        wall, cpu = 1e9, 1e9
        for _ in range(repeats):  # best of `repeats`: a shared machine's load only slows a run
            t0, c0 = time.perf_counter(), time.process_time()
            windows, info = clip_predict.predict_clip_video(video, runner, embedder=embedder, pipeline=pipeline,
                                                            window=window)
            wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        return wall, cpu, windows, info

    by_threads: dict[int, dict] = {}
    pipeline = FacePipeline(with_landmarks=False, model="short")  # alignment on the detector's keypoints
    try:
        for n in threads:
            torch.set_num_threads(n)  # as a caller's default; the runner's threads govern the models
            wall, cpu, windows, info = best_of(clip_predict.ClipModelRunner(ckpt, threads=n), pipeline)
            by_threads[n] = {"predict_s": round(wall, 2), "cpu_s": round(cpu, 2),
                             "realtime_x": round(info["duration"] / wall, 2)}
        n = min(by_threads, key=lambda k: by_threads[k]["predict_s"])
        runner = clip_predict.ClipModelRunner(ckpt, threads=1)  # 1 thread: the steadiest on a busy machine
        torch.set_num_threads(1)
        seek_wall, seek_cpu, _, _ = best_of(runner, pipeline)
        clip_predict.sample_spans = functools.partial(sample_spans, seek=False)
        try:
            full_wall, full_cpu, _, _ = best_of(runner, pipeline)
        finally:
            clip_predict.sample_spans = sample_spans
    finally:
        pipeline.close()
    mesh = FacePipeline(with_landmarks=True, model="short")
    try:
        mesh_wall, _, _, _ = best_of(runner, mesh)
    finally:
        mesh.close()
    predict_s = by_threads[n]["predict_s"]
    t0 = time.perf_counter()
    rendered = render_video(video, windows, work / "out.mp4")
    render_s = time.perf_counter() - t0
    return {"seconds": info["duration"], "windows": len(windows), "window_s": window, "threads": n,
            "predict_s": predict_s, "cpu_s": by_threads[n]["cpu_s"], "realtime_x": by_threads[n]["realtime_x"],
            "cpu_realtime_x": round(info["duration"] / by_threads[n]["cpu_s"], 2),
            "by_threads": by_threads, "seek_predict_s": round(seek_wall, 2), "seek_cpu_s": round(seek_cpu, 2),
            "no_seek_predict_s": round(full_wall, 2), "no_seek_cpu_s": round(full_cpu, 2),
            "mesh_predict_s": round(mesh_wall, 2), "mesh_realtime_x": round(info["duration"] / mesh_wall, 2),
            "render_s": round(render_s, 2), "render_frames": rendered["frames"],
            "render_audio": rendered["audio"],
            "with_render_x": round(info["duration"] / (predict_s + render_s), 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=9, help="2-second windows of the video to embed")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: a shared machine's fair figure)")
    p.add_argument("--quick", action="store_true", help="3 clips, 1 repeat, 1 training epoch timed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--e2e-only", action="store_true", help="only end-to-end predict --clip on 15 s")
    args = p.parse_args(argv)
    if args.quick:
        args.clips, args.repeats = 3, 1
    with tempfile.TemporaryDirectory() as tmp:
        isolate(Path(tmp))  # the default model converts into the isolated models dir
        import torch

        torch.set_num_threads(args.threads)
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        out: dict = {"embed": [], "backbone": [], "train": [], "gpu": "cuda" in devices,
                     "load_avg": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
        out["predict"] = predict_e2e(repeats=args.repeats)
        torch.set_num_threads(args.threads)
        _print_e2e(out["predict"])
        if args.e2e_only:
            if args.json:
                print(json.dumps(out))
            return 0
        for device in devices:
            out["backbone"].append(backbone_throughput(device, args.repeats))
            out["embed"].append(embed_throughput(args.clips, 2.0, device, args.repeats))
            for kind in ("transformer", "mean_mlp"):
                out["train"].append(train_throughput(kind, device, 256 if args.quick else 1024,
                                                     2 if args.quick else 4))
        out["audio"] = audio_throughput(args.clips, 2.0)
    print(f"clip benchmark on {VIDEO} (640x360, one face), N=16 frames per 2 s clip; "
          f"{out['cpus']} CPUs, load avg {out['load_avg']}, torch threads {torch.get_num_threads()}")
    for e in out["embed"]:
        print(f"  embed [{e['device']}]: {e['frames_per_s']} frames/s, {e['clips_per_s']} clips/s "
              f"({e['realtime_x']}x real time; {e['faces']}/{e['frames']} slots with the face; decode + "
              f"BlazeFace + track + align + {e['embedder']} + store; runs {e['runs_s']} s)")
    for b in out["backbone"]:
        print(f"  backbone alone [{b['device']}]: {b['frames_per_s']} crops/s (batch 64)")
    a = out["audio"]
    print(f"  audio images (PyAV decode + resample + librosa MFCC 40x300): {a['clips_per_s']} clips/s")
    for t in out["train"]:
        print(f"  train {t['kind']:11s} [{t['device']}, {t['threads']}t] {t['params']:>8,} params: "
              f"{t['clips_per_s']} clips/s (16 x 128 embeddings, batch 32, distribution KL + V/A CCC)")
    tr = {t["kind"]: t["clips_per_s"] for t in out["train"] if t["device"] == "cpu"}
    out["transformer_vs_baseline"] = round(tr["transformer"] / tr["mean_mlp"], 3)
    print(f"  transformer / baseline training speed (CPU, same run): {out['transformer_vs_baseline']}")
    if not out["gpu"]:
        print("  GPU: not measured - no CUDA device on this machine")
    if args.json:
        print(json.dumps(out))
    return 0


def _print_e2e(e: dict) -> None:
    threads = ", ".join(f"{n} thread(s) {b['predict_s']} s = {b['realtime_x']}x ({b['cpu_s']} s CPU)"
                        for n, b in e["by_threads"].items())
    print(f"  predict --clip end to end [cpu]: {e['seconds']} s of 640x360 video, {e['windows']} windows of "
          f"{e['window_s']} s x 16 frames: {threads}; best {e['predict_s']} s = {e['realtime_x']}x real time "
          f"(goal >= 5x; CPU time alone {e['cpu_realtime_x']}x); 1 thread, sampler seeking {e['seek_predict_s']} s "
          f"({e['seek_cpu_s']} s CPU) vs decoding every frame from the start {e['no_seek_predict_s']} s "
          f"({e['no_seek_cpu_s']} s CPU); with the face mesh {e['mesh_predict_s']} s = "
          f"{e['mesh_realtime_x']}x; --render {e['render_frames']} frames + audio ({e['render_audio']}) "
          f"in {e['render_s']} s ({e['with_render_x']}x real time with the render)")


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
