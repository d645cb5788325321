"""Browse page render times (Streamlit AppTest, server side) on a store filled by store_bench.py."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def render_times(filters: dict, repeats: int, *, cold: bool) -> list[float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    times = []
    for _ in range(repeats):
        if cold:
            st.cache_data.clear()  # measure the queries, not the cache
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        at.session_state["demo_ready"] = True
        at.run()
        at.switch_page("app_pages/browse.py")
        t = time.perf_counter()
        at.run()
        for key, value in filters.items():
            at.sidebar.multiselect(key=key).set_value(value)
        if filters:
            at.run()
        times.append((time.perf_counter() - t) * 1000)
        assert not at.exception, at.exception
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--store", type=Path, required=True, help="folder given to store_bench.py --keep")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="2 repeats")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 2
    os.environ["AFFECTLAB_DATA_DIR"] = str(args.store / "data")
    os.environ["AFFECTLAB_DB_URL"] = f"sqlite:///{args.store / 'bench.db'}"
    crop = args.store / "data" / "crops" / "bench.png"
    crop.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(crop), np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8))
    import sqlite3

    with sqlite3.connect(args.store / "bench.db") as con:
        n = con.execute("SELECT count(*) FROM samples").fetchone()[0]
        con.execute("UPDATE samples SET crop_path = 'crops/bench.png' WHERE crop_path != 'crops/bench.png'")
    print(f"store: {n:,} samples")
    cases = {"first page, no filter": {}, "emotion filter": {"f_emotion": ["Happy"]},
             "split + emotion": {"f_split": ["val"], "f_emotion": ["Sad", "Fear"]}}
    for cold in (True, False):
        for name, flt in cases.items():
            times = sorted(render_times(flt, args.repeats, cold=cold))
            print(f"browse render, {'cold' if cold else 'warm'} cache, {name:24s} p50 "
                  f"{statistics.median(times):8.1f} ms   max {times[-1]:8.1f} ms  (n={len(times)})")
    print(f"peak RSS of this process (Browse page, {n:,}-sample store): {peak_rss_mib():.0f} MiB")


def peak_rss_mib() -> float:
    """VmHWM of this process, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
