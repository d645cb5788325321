"""`affectlab queue --dataset D --kind likely-wrong|uncertain`: the label-issue and label-next
queues from the command line, with the source of their predictions."""
from __future__ import annotations

import numpy as np

from tests.label_quality_data import classes, store_generated


def test_queue_verb_likely_wrong_and_uncertain(cli, env):
    from core.store.db import write_session

    data = classes(n=160, k=4, n_videos=20, seed=9)
    with write_session() as s, s.begin():
        store_generated(s, data, labelled=120, name="gen")
    rc, out, err = cli("queue", "--dataset", "gen", "--kind", "likely-wrong", "--limit", "8", "--json")
    assert rc == 0, err
    wrong = {int(i) + 1 for i in np.flatnonzero(data.wrong[:120])}
    assert out["ok"] and out["source"] == "cross-val" and out["detail"]["features"] == "gen"
    assert len(out["ids"]) == 8 and len(set(out["ids"]) & wrong) >= 6
    rc, out, err = cli("queue", "--dataset", "gen", "--kind", "uncertain", "--limit", "10",
                       "--per-video", "2", "--json")
    assert rc == 0, err
    assert out["source"] == "cheap model" and set(out["ids"]) <= set(range(121, 161))
    vids = [int(data.groups[i - 1]) for i in out["ids"]]
    assert len(out["ids"]) == 10 and max(vids.count(v) for v in vids) <= 2
    rc, _, _ = cli("queue", "--dataset", "gen", "--kind", "uncertain", "--limit", "3")
    assert rc == 0
    rc, out, err = cli("queue", "--dataset", "nope", "--kind", "uncertain", "--json")
    assert rc == 1 and "nope" in err and out["ok"] is False
    rc, _, err = cli("queue", "--dataset", "gen", "--kind", "sideways")
    assert rc == 2 and "sideways" in err


def test_queue_verb_text_names_the_source(cli, env, capsys):
    from cli.app import main
    from core.store.db import write_session

    data = classes(n=100, k=3, n_videos=10, seed=2)
    with write_session() as s, s.begin():
        store_generated(s, data, name="gen")
    assert main(["queue", "--dataset", "gen", "--kind", "likely-wrong", "--limit", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("likely-wrong queue of gen (emotion): 3 samples; source cross-val (features gen")
    assert text.count("label quality") == 3
