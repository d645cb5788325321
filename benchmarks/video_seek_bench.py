"""Keyframe seeking in the video reader: a 1 s clip (N=16) 50 s into a 60 s 640x360 H.264 video
(x264 defaults: a keyframe at most every 250 frames), read by decoding from the start (seek=False,
the reader before seeking) and by seeking, in one run: wall and process CPU seconds, the ratio,
and that both give the same frames. Also one frame by its index (read_frame, Browse's source frame).

    python benchmarks/video_seek_bench.py [--repeats 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import REPO  # noqa: E402


def make_video(path: Path, seconds: int = 60) -> Path:
    """A 640x360 24 fps test pattern, H.264 with x264's default GOP (keyint 250, scene cuts)."""
    subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=640x360:rate=24:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(best wall s, best process CPU s, last result) over repeats."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), out


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from core.clips.sampling import SamplingRule, sample_spans
    from core.video import VideoReader, read_frame

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="1 repeat")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        video = make_video(Path(tmp) / "sixty.mp4")
        with VideoReader(video) as reader:
            t = time.perf_counter()
            index = reader.packet_index()
            index_s = time.perf_counter() - t
        rule, span = SamplingRule.even(16), [(50.0, 51.0)]
        out: dict = {"video": "60 s 640x360 24 fps H.264 (x264 veryfast defaults)", "frames": len(index),
                     "keyframes": len(index.keyframes), "clip": "1 s at 50 s, 16 frames",
                     "load_avg": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(), "index_s": round(index_s, 3)}
        before = timed(lambda: sample_spans(video, rule, span, seek=False)[0], repeats)
        after = timed(lambda: sample_spans(video, rule, span)[0], repeats)
        same = (before[2].frame_index.tolist() == after[2].frame_index.tolist()
                and all(np.array_equal(a, b) for a, b in zip(before[2].images, after[2].images)))
        out["clip_read"] = {"decode_from_start_s": round(before[0], 3), "seek_s": round(after[0], 3),
                            "decode_from_start_cpu_s": round(before[1], 3), "seek_cpu_s": round(after[1], 3),
                            "speedup_x": round(before[0] / after[0], 1), "cpu_speedup_x": round(before[1] / after[1], 1),
                            "same_frames": same}
        row = int(np.searchsorted(index.seconds, 50.0))

        def scan() -> np.ndarray:
            with VideoReader(video) as r:
                return next(f.image for f in r.frames() if f.index == row)

        scanned = timed(scan, repeats)
        seeked = timed(lambda: read_frame(video, row), repeats)
        out["one_frame"] = {"index": row, "decode_from_start_s": round(scanned[0], 3), "seek_s": round(seeked[0], 3),
                            "speedup_x": round(scanned[0] / seeked[0], 1),
                            "same_pixels": bool(np.array_equal(scanned[2], seeked[2]))}
    c, f = out["clip_read"], out["one_frame"]
    print(f"video seek: {out['video']}, {out['frames']} frames, {out['keyframes']} keyframes; "
          f"{out['cpus']} CPUs, load avg {out['load_avg']}; packet index {out['index_s']} s")
    print(f"  {out['clip']}: decode from the start {c['decode_from_start_s']} s ({c['decode_from_start_cpu_s']} s CPU), "
          f"seek {c['seek_s']} s ({c['seek_cpu_s']} s CPU) = {c['speedup_x']}x faster ({c['cpu_speedup_x']}x CPU); "
          f"same frames: {c['same_frames']}")
    print(f"  one frame (index {f['index']}): decode from the start {f['decode_from_start_s']} s, seek {f['seek_s']} s "
          f"= {f['speedup_x']}x; same pixels: {f['same_pixels']}")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
