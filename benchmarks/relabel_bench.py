"""Relabel responsiveness: server time of one Save & next, Undo and V/A change, measured with
Streamlit's AppTest on a seeded 40-sample store (warm: after a first full page run).

AppTest runs the whole script for every interaction (column "full run", callbacks included); in
a browser the editor's buttons rerun only the editor fragment, whose body is timed on its own
(column "fragment": st.fragment is wrapped with a timer while the benchmark runs). Medians of N.

    python benchmarks/relabel_bench.py [--n 15] [--json]
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _seed(root: Path) -> None:
    from core.ingest import import_path
    from tests.helpers import write_affectnet_csv

    import_path("csv", write_affectnet_csv(root / "in", 40, subjects=10), dataset="demo")


FRAGMENT_TIMES: list[float] = []


def _time_fragments() -> None:
    """Wrap st.fragment so every fragment body run appends its duration to FRAGMENT_TIMES."""
    import functools

    import streamlit as st

    real = st.fragment

    def fragment(func=None, **kwargs):
        def deco(f):
            @functools.wraps(f)
            def timed(*a, **k):
                t0 = time.perf_counter()
                try:
                    return f(*a, **k)
                finally:
                    FRAGMENT_TIMES.append(time.perf_counter() - t0)
            return real(timed, **kwargs)
        return deco(func) if func is not None else deco

    st.fragment = fragment


def _timed(at, action) -> float:
    t0 = time.perf_counter()
    action(at).run()
    assert not at.exception, at.exception
    return time.perf_counter() - t0


def measure(n: int, *, undo: bool = True) -> dict[str, tuple[float, float | None]]:
    """Per interaction: (full run ms, fragment body ms or None when the page has no fragment)."""
    from streamlit.testing.v1 import AppTest

    _time_fragments()

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["annotator"] = "bench"
    at.session_state["relabel_queue"] = list(range(1, 41))
    at.run()
    at.switch_page("app_pages/relabel.py").run()
    times: dict[str, list[float]] = {"page": [], "emotion": [], "valence": [], "save_next": [],
                                     "undo": []}
    frags: dict[str, list[float]] = {k: [] for k in times}

    def timed(name: str, action) -> None:
        FRAGMENT_TIMES.clear()
        times[name].append(_timed(at, action))
        frags[name] += FRAGMENT_TIMES[-1:]

    for i in range(n):
        key = next(b.key for b in at.button if b.key and b.key.endswith("-b0")).rsplit("-", 1)[0]
        timed("emotion", lambda a, k=f"{key}-b{i % 8}": a.button(key=k).click())
        timed("valence", lambda a, k=f"{key}-v": a.slider(key=k).set_value(0.25))
        timed("save_next", lambda a: a.button(key="save").click())
        timed("page", lambda a: a)
        if undo and i % 3 == 0:  # back to the saved one and undo it
            at.button(key="back").click().run()
            timed("undo", lambda a: a.button(key="undo").click())
    ms = lambda v: round(statistics.median(v) * 1000, 1) if v else None  # noqa: E731
    return {k: (ms(v), ms(frags[k])) for k, v in times.items() if v}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=15)
    ap.add_argument("--no-undo", action="store_true", help="leave Undo out")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.update(AFFECTLAB_DATA_DIR=str(root / "data"), AFFECTLAB_DB_URL=f"sqlite:///{root / 'a.db'}")
        os.environ.setdefault("AFFECTLAB_ASSETS_DIR", str(REPO / "data" / "assets"))
        _seed(root)
        out = measure(args.n, undo=not args.no_undo)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{'':10s} {'full run':>10s} {'fragment':>10s}  (median server ms per interaction)")
        for k, (full, frag) in out.items():
            print(f"{k:10s} {full:10.1f} {'-' if frag is None else f'{frag:.1f}':>10s}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
