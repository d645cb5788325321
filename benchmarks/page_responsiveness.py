"""Server time per page interaction (Streamlit AppTest) on the demo dataset: Overview, Browse, Review.

    AFFECTLAB_DATA_DIR=/tmp/x/data AFFECTLAB_DB_URL=sqlite:////tmp/x/a.db \\
        python benchmarks/page_responsiveness.py [--repeat 5] [--json]

Builds the demo (`python -m core demo`'s prepare_demo) into that store when it has none. Each
interaction is timed around AppTest.run(), i.e. one script run in this process: what a browser
waits for between the click and the page's last delta, minus the network. "first" runs start
with empty st.cache_data caches (a fresh server); the rest are warm. AppTest reruns the whole
script even where the page uses @st.fragment, so a fragment-scoped interaction in a browser costs
at most the number shown here. AppTest compiles the page scripts anew on every run, which a
server does once: the benchmark shares one script cache across runs, as a server does.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test

_SCRIPTS = ScriptCache()
app_test.ScriptCache = lambda: _SCRIPTS  # compiled page scripts kept across runs, as on a server

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _timed(step: Callable[[], AppTest]) -> tuple[float, AppTest]:
    t0 = time.perf_counter()
    at = step()
    dt = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"page error: {at.exception[0].value}")
    return dt, at


def _page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    return at.switch_page(f"app_pages/{name}.py")


def browse_session(cold: bool) -> dict[str, float]:
    """First Browse, rerun, filter change, next page, open a sample, back to all emotions."""
    import streamlit as st

    if cold:
        st.cache_data.clear()
    out: dict[str, float] = {}
    at = _page("browse")
    out["browse: first load"], at = _timed(at.run)
    out["browse: rerun (no change)"], at = _timed(at.run)
    out["browse: filter change (emotion)"], at = _timed(
        at.sidebar.multiselect(key="f_emotion").set_value(["none"]).run)
    nxt = at.button(key="next")
    if not nxt.disabled:
        out["browse: next page"], at = _timed(nxt.click().run)
    opens = [b for b in at.button if b.key and b.key.startswith("browse-open-")]
    if opens:
        out["browse: open a sample"], at = _timed(opens[0].click().run)
    out["browse: clear filter"], at = _timed(at.sidebar.multiselect(key="f_emotion").set_value([]).run)
    return out


def other_pages(cold: bool) -> dict[str, float]:
    import streamlit as st

    if cold:
        st.cache_data.clear()
    out: dict[str, float] = {}
    at = AppTest.from_file(APP, default_timeout=300)
    out["overview: load (new session)"], at = _timed(at.run)
    out["overview: rerun (no change)"], at = _timed(at.run)
    out["review: load"], at = _timed(at.switch_page("app_pages/review.py").run)
    out["review: rerun (no change)"], at = _timed(at.run)
    return out


def ensure_demo() -> None:
    from core.demo import demo_exists, prepare_demo

    if not demo_exists():
        print("building the demo dataset (first time only)...", flush=True)
        prepare_demo()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="warm sessions to time (median)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    ensure_demo()
    first = {**browse_session(cold=True), **other_pages(cold=True)}
    warm: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        for k, v in {**browse_session(cold=False), **other_pages(cold=False)}.items():
            warm.setdefault(k, []).append(v)
    result = {k: {"first_s": round(first.get(k, float("nan")), 3),
                  "warm_median_s": round(statistics.median(v), 3)} for k, v in warm.items()}
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{'interaction':36s} {'first (s)':>10s} {'warm median (s)':>16s}")
    for k, v in result.items():
        print(f"{k:36s} {v['first_s']:10.3f} {v['warm_median_s']:16.3f}")


if __name__ == "__main__":
    main()
