"""`affectlab trace list|export|agreement --media ID [--json]` through cli.app.main."""
from __future__ import annotations

import csv
import io

import pytest

from core.store.db import write_session
from core.store.traces import save_trace
from tests.store.trace_seed import seed_video

RAMP = {"t": [0.0, 1.0, 2.0, 3.0], "valence": [-1.0, 0.0, 0.5, 1.0], "arousal": [0.0, 0.2, 0.4, 0.6]}


def test_trace_verbs(cli, env, capsys):
    with write_session() as s, s.begin():
        mid = seed_video(s)
        save_trace(s, mid, "ana", RAMP)
    rc, out, err = cli("trace", "agreement", "--media", mid, "--json")
    assert rc == 0, err
    assert out["annotators"] == ["ana"] and out["agreement"] is None
    with write_session() as s, s.begin():
        save_trace(s, mid, "bob", {**RAMP, "arousal": [0.6, 0.4, 0.2, 0.0]})
    rc, out, _ = cli("trace", "list", "--media", mid, "--json")
    assert rc == 0 and [(t["annotator"], t["samples"]) for t in out["traces"]] == [("ana", 4), ("bob", 4)]
    rc, out, _ = cli("trace", "agreement", "--media", mid, "--json")
    assert out["agreement"]["valence"]["ccc"] == pytest.approx(1.0)
    assert out["agreement"]["arousal"]["ccc"] < 0 and out["agreement"]["arousal"]["sign"] == 0.0
    rc, out, _ = cli("trace", "export", "--media", mid, "--out", env / "t.csv", "--json")
    assert rc == 0 and out["rows"] == 30
    rows = list(csv.DictReader(io.StringIO((env / "t.csv").read_text())))
    assert rows[10]["time"] == "1.0000" and rows[10]["consensus_arousal"] == "0.3000"
    capsys.readouterr()
    from cli.app import main

    assert main(["trace", "agreement", "--media", str(mid)]) == 0
    text = capsys.readouterr().out
    assert "valence" in text and "+1.000" in text
    rc, _, err = cli("trace", "list", "--media", 999)
    assert rc == 1 and "media 999: no such video" in err
    rc, _, err = cli("trace", "export", "--media", 999)
    assert rc == 1 and "no such video" in err
