"""Mixed-load benchmark: 8 annotator processes relabel a 100-sample hot set for 60 s while a
20,000-row CSV import runs (its own process) and a backup is taken (at 40% of the window).

Prints edit latencies (p50/p95/max, all edits and those during the import), the import's rows/s,
the backup's time, and every invariant checked afterwards: 0 errors ("database is locked"
included), 0 lost updates, a linear history per sample, cached current labels equal to the ones
recomputed, integrity of the store and of the backup. Annotators pause 25-75 ms between edits
(--pause 0 saturates). tests/reliability/test_load.py runs a 15 s / 5,000-row version.

    python benchmarks/load_bench.py [--seconds 60] [--rows 20000] [--annotators 8] [--pause 0.05] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from common import cpu_model, isolate, load_avg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--annotators", type=int, default=8)
    ap.add_argument("--pause", type=float, default=0.05, help="mean seconds between an annotator's edits")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        isolate(root)
        from tests.reliability.load import run_load

        out = run_load(root, seconds=args.seconds, rows=args.rows, annotators=args.annotators, pause_s=args.pause)
    out.update(cpu=cpu_model(), cores=os.cpu_count(), load_avg=load_avg())
    problems = out["problems"]
    imp, bak = out["import"], out["backup"]
    whole = not (problems["errors"] or problems["exitcodes"] or problems["lost_updates"]
                 or problems["consistency"] or problems["history_rows_vs_applied"] or bak["problems"]
                 or imp["returncode"] or imp["stored"] != imp["rows"]) \
        and problems["integrity"] == bak["integrity"] == "ok"
    if args.json:
        print(json.dumps({"ok": whole, **out}, default=str))
        return 0 if whole else 1
    e, i, b = out["edits"], imp, bak
    print(f"{out['annotators']} annotators x {out['seconds']} s on {out['hot_samples']} hot samples "
          f"({out['cores']} cores, load {out['load_avg']}): {e['attempts']} edits, {e['applied']} applied, "
          f"{e['conflicts']} conflicts, {e['errors']} errors ({e['locked']} 'database is locked'), {e['per_s']}/s")
    print(f"edit latency       p50 {e['p50_ms']} ms  p95 {e['p95_ms']} ms  max {e['max_ms']} ms")
    d = e["during_import"]
    print(f"  during import    p50 {d['p50_ms']} ms  p95 {d['p95_ms']} ms  max {d['max_ms']} ms "
          f"({d['attempts']} edits)")
    print(f"import             {i['stored']}/{i['rows']} rows in {i['seconds']} s ({i['rows_per_s']} rows/s), "
          f"exit {i['returncode']} {i['stderr']}")
    print(f"backup             {b['seconds']} s, {b['bytes']} bytes, integrity {b['integrity']}, "
          f"consistency problems {b['problems']}")
    print(f"store              lost updates {problems['lost_updates']}, consistency {problems['consistency']}, "
          f"integrity {problems['integrity']}, history rows - applied {problems['history_rows_vs_applied']}")
    print("verdict            " + ("whole" if whole else "PROBLEMS"))
    return 0 if whole else 1


if __name__ == "__main__":
    raise SystemExit(main())
