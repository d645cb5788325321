"""Helpers shared by the benchmarks: isolated data dirs, real 640x480 frames, timing, machine info."""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VIDEOS = ("single_face.mp4", "WolfgangLanger_Pexels.mp4")


def isolate(folder: Path) -> None:
    """Point the data dir (models, crops) and the database at `folder`, keep the repo's asset cache."""
    from core.config import get_settings

    assets = get_settings().assets_dir  # before AFFECTLAB_DATA_DIR moves (assets default under it)
    os.environ["AFFECTLAB_ASSETS_DIR"] = str(assets)
    os.environ["AFFECTLAB_DATA_DIR"] = str(folder / "data")
    os.environ["AFFECTLAB_DB_URL"] = f"sqlite:///{folder / 'bench.db'}"


def letterbox(frame, width: int = 640, height: int = 480):
    """Resize keeping the aspect ratio, pad with black to exactly width x height (BGR uint8)."""
    import cv2
    import numpy as np

    h, w = frame.shape[:2]
    s = min(width / w, height / h)
    nw, nh = int(round(w * s)), int(round(h * s))
    small = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y:y + nh, x:x + nw] = small
    return out


def real_frames(per_video: int, videos: Iterable[str] = VIDEOS, *, stride: int = 1) -> list:
    """Up to per_video frames of each bundled face video (every `stride`-th), letterboxed to 640x480."""
    import cv2

    from core.assets import asset_path

    frames = []
    for name in videos:
        cap = cv2.VideoCapture(str(asset_path(name)))
        got, index = 0, 0
        while got < per_video:
            ok, frame = cap.read()
            if not ok:
                break
            if index % stride == 0:
                frames.append(letterbox(frame))
                got += 1
            index += 1
        cap.release()
    return frames


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000.0


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def load_avg() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return float("nan")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quiet_native_logs() -> None:
    """LiteRT / mediapipe print INFO lines on stderr; keep benchmark output readable."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("GLOG_minloglevel", "2")
