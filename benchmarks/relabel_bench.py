"""Relabel responsiveness: server time of one Save & next, Undo and V/A change, measured with
Streamlit's AppTest on a seeded 40-sample store (warm: after a first full page run).

AppTest runs the whole script for every interaction; a browser that reruns only the editor
fragment does less. The script run time is the server time an interaction costs (median of N).

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


def _timed(at, action) -> float:
    t0 = time.perf_counter()
    action(at).run()
    assert not at.exception, at.exception
    return time.perf_counter() - t0


def measure(n: int, *, undo: bool = True) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["annotator"] = "bench"
    at.session_state["relabel_queue"] = list(range(1, 41))
    at.run()
    at.switch_page("app_pages/relabel.py").run()
    times: dict[str, list[float]] = {"page": [], "emotion": [], "valence": [], "save_next": [],
                                     "undo": []}
    for i in range(n):
        key = next(b.key for b in at.button if b.key and b.key.endswith("-b0")).rsplit("-", 1)[0]
        times["emotion"].append(_timed(at, lambda a: a.button(key=f"{key}-b{i % 8}").click()))
        times["valence"].append(_timed(at, lambda a: a.slider(key=f"{key}-v").set_value(0.25)))
        times["save_next"].append(_timed(at, lambda a: a.button(key="save").click()))
        times["page"].append(_timed(at, lambda a: a))
        if undo and i % 3 == 0:  # back to the saved one and undo it
            at.button(key="back").click().run()
            times["undo"].append(_timed(at, lambda a: a.button(key="undo").click()))
    return {k: round(statistics.median(v) * 1000, 1) for k, v in times.items() if v}


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
        for k, v in out.items():
            print(f"{k:10s} {v:8.1f} ms (median server time per interaction)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
