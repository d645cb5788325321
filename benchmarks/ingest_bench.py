"""Video ingest frames/s through core.ingest.import_path("video", ...): decode, sample, detect,
(mesh,) align, encode and store every face crop, commit.

Every frame is sampled (--fps equal to the video's own rate), so frames/s = decoded and
processed frames / wall time of the whole import (store included). Each configuration imports
the bundled face videos (single_face.mp4 and WolfgangLanger_Pexels.mp4, 640x360, 24 fps) into a
fresh dataset and data dir, repeats round-robin, and reports the median.

  default       options as the Upload page and CLI use them: BlazeFace short range + 468-point
                mesh (mesh468 features stored with each sample)
  no mesh       landmarks=False (5 BlazeFace keypoints only)

    python benchmarks/ingest_bench.py [--quick] [--repeats 3] [--json]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import VIDEOS, quiet_native_logs  # noqa: E402

CONFIGS = {"default": {}, "no mesh": {"landmarks": False}}


def video_fps(path: Path) -> tuple[float, int]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps, n = float(cap.get(cv2.CAP_PROP_FPS)), int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return fps, n


def import_once(video: Path, options: dict, tag: str) -> dict:
    from core.ingest import import_path

    fps, _ = video_fps(video)
    t = time.perf_counter()
    report = import_path("video", video, dataset=f"ingest-{tag}", options={"fps": fps, **options})
    dt = time.perf_counter() - t
    return {"frames": report.rows, "added": report.added, "seconds": dt}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="single_face.mp4 only, 1 repeat")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    quiet_native_logs()
    videos = VIDEOS[:1] if args.quick else VIDEOS
    repeats = 1 if args.quick else args.repeats
    results: dict[str, list[dict]] = {c: [] for c in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        from common import isolate

        isolate(Path(tmp))
        from core.assets import asset_path

        paths = [asset_path(v) for v in videos]
        import_once(paths[0], {}, "warmup")  # load the face models once
        for r in range(repeats):
            for name, options in CONFIGS.items():
                frames = added = 0
                seconds = 0.0
                for i, path in enumerate(paths):
                    os.environ["AFFECTLAB_DATA_DIR"] = str(Path(tmp) / f"data-{r}-{name}-{i}")
                    one = import_once(path, options, f"{r}-{name.replace(' ', '')}-{i}")
                    frames, added, seconds = frames + one["frames"], added + one["added"], seconds + one["seconds"]
                results[name].append({"frames": frames, "added": added, "seconds": seconds,
                                      "fps": frames / seconds})
    out = {}
    for name, runs in results.items():
        out[name] = {"frames": runs[0]["frames"], "faces_stored": runs[0]["added"],
                     "fps": round(statistics.median(r["fps"] for r in runs), 1),
                     "fps_runs": [round(r["fps"], 1) for r in runs]}
    info = {v: video_fps(asset_path(v)) for v in videos}
    print("videos: " + ", ".join(f"{v} ({n} frames at {f:.2f} fps)" for v, (f, n) in info.items())
          + f"; every frame sampled; median of {repeats}")
    for name, r in out.items():
        print(f"  {name:8s} {r['fps']:7.1f} frames/s  ({r['frames']} frames, {r['faces_stored']} faces "
              f"stored; runs {r['fps_runs']})")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
