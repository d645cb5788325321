"""The corpus report: per class of generated cases, how many were tried and how each ended.
Runs last in the reliability suite (file order); prints the table, asserts the zeros."""
from __future__ import annotations

import pytest

from tests.reliability.corpus import REPORT


def test_zz_corpus_report():
    if not REPORT.classes:
        pytest.skip("no reliability class ran in this session")
    print("\nreliability corpus report\n" + REPORT.table())
    total = REPORT.total()
    assert (total.crashes, total.tracebacks, total.outside_files, total.crops_lost, total.misaligned) == \
        (0, 0, 0, 0, 0), REPORT.table()
