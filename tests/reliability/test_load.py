"""The mixed load, short: 8 annotator processes relabel for 15 s while a 5,000-row import runs and
a backup is taken: 0 lost updates, 0 "database is locked", a consistent history and backup.
(benchmarks/load_bench.py runs the full 60 s / 20,000-row version and prints the numbers.)"""
from __future__ import annotations

import json

import pytest

from tests.reliability.corpus import REPORT
from tests.reliability.load import run_load


@pytest.mark.slow
def test_annotators_import_and_backup_at_once(env):
    figures = run_load(env, seconds=15, rows=5000)
    print("\nload:", json.dumps({k: v for k, v in figures.items() if k != "problems"}))
    problems, edits = figures["problems"], figures["edits"]
    REPORT.record("load: 8 annotators + import + backup", clear_error=True, crash=bool(problems["errors"]),
                  misaligned=len(problems["lost_updates"]) + len(problems["consistency"]))
    assert problems["errors"] == [] and edits["locked"] == 0, problems["errors"]
    assert problems["exitcodes"] == [] and problems["lost_updates"] == [], problems
    assert problems["consistency"] == [] and problems["integrity"] == "ok", problems
    assert problems["history_rows_vs_applied"] == 0  # conflicts left nothing behind
    assert figures["import"]["returncode"] == 0, figures["import"]["stderr"]
    assert figures["import"]["stored"] == 5000
    assert figures["backup"]["integrity"] == "ok" and figures["backup"]["problems"] == []
    assert edits["applied"] > 0 and edits["during_import"]["attempts"] > 0  # the loads overlapped
