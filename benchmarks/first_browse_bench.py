"""First Browse on a fresh server, in a real browser: a new `streamlit run app.py` on the demo store,
headless Chromium opens /browse, timed until the grid's "N samples match" caption shows.

    python benchmarks/first_browse_bench.py [--repeat 3] [--port 8711] [--json]

Each repeat starts a new server process (nothing imported, nothing cached) and a new browser.
Reported per repeat: server start (process to /_stcore/health answering), first Browse
(navigation to the grid shown: the issue's "first Browse on a fresh server", goal <= 3 s) and the
server's CPU seconds over that first Browse (imports, queries, rendering, serving the frontend),
which machine load inflates far less than the wall time.
Needs Chromium and playwright (tests/browser/server.py); the demo store is built once under
--work (default /tmp/affectlab-first-browse).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.server import chromium_page, streamlit_server  # noqa: E402
from tests.live.common import ASSETS  # noqa: E402

SEED = "from core.demo import demo_exists, prepare_demo\nif not demo_exists(): prepare_demo()"


def server_cpu_s(port: int) -> float:
    """CPU seconds (user + system) the streamlit child on `port` has used so far."""
    for child in psutil.Process().children():
        if f"--server.port={port}" in child.cmdline():
            t = child.cpu_times()
            return t.user + t.system
    raise LookupError(f"no streamlit server of ours on port {port}")


def one(env: dict[str, str], work: Path, port: int, n: int) -> dict[str, float]:
    log = work / f"server-{n}.log"
    t0 = time.perf_counter()
    with streamlit_server(env, port, log) as url:
        started, cpu0 = time.perf_counter() - t0, server_cpu_s(port)
        (work / f"browser-{n}").mkdir(exist_ok=True)
        with chromium_page(work / f"browser-{n}") as page:
            t1 = time.perf_counter()
            page.goto(f"{url}/browse", wait_until="domcontentloaded")
            page.get_by_text("samples match").first.wait_for(timeout=120_000)
            first = time.perf_counter() - t1
            cpu = server_cpu_s(port) - cpu0
    return {"server_start_s": round(started, 2), "first_browse_s": round(first, 2),
            "first_browse_server_cpu_s": round(cpu, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--port", type=int, default=8711)
    ap.add_argument("--work", type=Path, default=Path("/tmp/affectlab-first-browse"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFECTLAB_")}
    env.update(AFFECTLAB_DATA_DIR=str(args.work / "data"), AFFECTLAB_DB_URL=f"sqlite:///{args.work / 'a.db'}",
               AFFECTLAB_ASSETS_DIR=str(ASSETS), HOME=str(args.work / "home"), PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, check=True)
    runs = [one(env, args.work, args.port, n) for n in range(args.repeat)]
    result = {"runs": runs, **{f"median_{k}": statistics.median(r[k] for r in runs) for k in runs[0]}}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    for r in runs:
        print(f"server start {r['server_start_s']:6.2f} s   first Browse {r['first_browse_s']:6.2f} s "
              f"(server CPU {r['first_browse_server_cpu_s']:.2f} s)")
    print(f"median: server start {result['median_server_start_s']:.2f} s, "
          f"first Browse {result['median_first_browse_s']:.2f} s (goal <= 3 s), "
          f"server CPU {result['median_first_browse_server_cpu_s']:.2f} s; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
