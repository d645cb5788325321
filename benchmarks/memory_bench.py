"""Peak memory (RSS high-water mark, VmHWM) of the app's parts.

  live processor   a process that loads the Live page's predictor (core.catalog.load_predictor, ONNX
                   Runtime + BlazeFace + mesh) and runs core.live.LiveProcessor over --frames
                   real 640x480 frames: the work the Streamlit server does per viewer
  streamlit idle   `streamlit run app.py` headless on a free loopback port, after its health
                   check and a GET of the page (the script itself runs per browser session)
  app with live    the two added: the server process runs the processor in a thread
  browse at 1M     benchmarks/page_bench.py against a 1M-sample store (store_bench.py --keep):
                   the Browse page rendered (AppTest, cold and warm cache), peak RSS of that process

    python benchmarks/memory_bench.py [--quick] [--store DIR] [--frames 500] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))


def status_mib(pid: int | str = "self") -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmHWM", "VmRSS"):
            out[key] = round(int(line.split()[1]) / 1024, 1)
    return out


def child_live(frames: int) -> None:
    from common import isolate, quiet_native_logs, real_frames

    quiet_native_logs()
    with tempfile.TemporaryDirectory() as tmp:
        isolate(Path(tmp))
        from core.catalog import load_predictor
        from core.live import LiveProcessor

        before = status_mib()
        proc = LiveProcessor(load_predictor("default", threads=1, shared=True))
        pool = real_frames(max(1, frames // 2))
        loaded = status_mib()
        for i in range(frames):
            proc.process(pool[i % len(pool)].copy())
        snap = proc.results.latest()
        print(json.dumps({"frames": frames, "ok": snap is not None and snap.error is None,
                          "after_imports_mib": before, "after_load_mib": loaded, "end_mib": status_mib()}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_idle(timeout_s: float = 90.0) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "AFFECTLAB_DATA_DIR": str(Path(tmp) / "data"),
               "AFFECTLAB_DB_URL": f"sqlite:///{Path(tmp) / 'app.db'}"}
        from core.config import get_settings

        env["AFFECTLAB_ASSETS_DIR"] = str(get_settings().assets_dir)
        cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless=true",
               f"--server.port={port}", "--server.address=127.0.0.1",
               "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"]
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + timeout_s
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError("streamlit did not answer its health check")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                r.read()
            time.sleep(2)
            return status_mib(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def browse(store: Path, quick: bool) -> dict:
    cmd = [sys.executable, str(HERE / "page_bench.py"), "--store", str(store)] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-500:])
    m = re.search(r"peak RSS of this process \(Browse page, ([\d,]+)-sample store\): (\d+) MiB", out.stdout)
    renders = [line.strip() for line in out.stdout.splitlines() if line.startswith("browse render")]
    return {"samples": int(m.group(1).replace(",", "")), "peak_mib": float(m.group(2)), "renders": renders}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=500)
    p.add_argument("--store", type=Path, default=None, help="a store_bench.py --keep folder (Browse)")
    p.add_argument("--quick", action="store_true", help="50 frames")
    p.add_argument("--json", action="store_true")
    p.add_argument("--child-live", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child_live is not None:
        child_live(args.child_live)
        return 0
    frames = 50 if args.quick else args.frames
    out: dict = {}
    live = subprocess.run([sys.executable, __file__, "--child-live", str(frames)], capture_output=True,
                          text=True, cwd=REPO, timeout=900)
    if live.returncode != 0:
        raise RuntimeError(live.stderr.strip()[-800:])
    out["live_processor"] = json.loads(live.stdout.strip().splitlines()[-1])
    out["streamlit_idle"] = streamlit_idle()
    out["app_with_live_mib"] = round(out["live_processor"]["end_mib"]["VmHWM"]
                                     + out["streamlit_idle"]["VmHWM"], 1)
    if args.store is not None:
        out["browse"] = browse(args.store, args.quick)
    lp = out["live_processor"]
    print(f"live processor, {lp['frames']} frames: peak RSS {lp['end_mib']['VmHWM']} MiB "
          f"(after imports {lp['after_imports_mib']['VmRSS']} MiB, models loaded {lp['after_load_mib']['VmRSS']} MiB)")
    print(f"streamlit server idle: peak RSS {out['streamlit_idle']['VmHWM']} MiB")
    print(f"app with the live page running (server + processor): ~{out['app_with_live_mib']} MiB")
    if "browse" in out:
        b = out["browse"]
        print(f"browse page on a {b['samples']:,}-sample store: peak RSS {b['peak_mib']} MiB")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
