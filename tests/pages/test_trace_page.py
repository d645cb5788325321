"""Traces page under AppTest: a stored video, the recorder, saved traces, agreement, export, frame labels."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from core.store.db import read_session, write_session
from core.store.models import Sample
from core.store.traces import save_trace
from tests.apptest import open_app
from tests.store.trace_seed import seed_video

RAMP = {"t": [0.0, 1.0, 2.0, 3.0], "valence": [-1.0, 0.0, 0.5, 1.0], "arousal": [0.0, 0.2, 0.4, 0.6]}


def _video(env, traces: dict[str, dict]) -> int:
    (env / "data" / "media").mkdir(parents=True, exist_ok=True)
    (env / "data" / "media" / "v.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")  # never decoded here
    with write_session() as s, s.begin():
        mid = seed_video(s)
        for name, samples in traces.items():
            save_trace(s, mid, name, samples)
    return mid


def _page(**state):
    return open_app("trace", demo_ready=True, annotator="ana", **state)


def test_no_video_says_how_to_add_one(env):
    at = _page()
    assert any("No video in the store" in i.value for i in at.info)


def test_one_trace_shows_the_recorder_the_table_and_asks_for_a_second(env):
    _video(env, {"ana": RAMP})
    at = _page()
    assert not at.exception and not at.error
    assert at.selectbox(key="trace_media").value["name"] == "face.mp4"
    rows = at.dataframe[0].value
    assert rows["annotator"].tolist() == ["ana"] and rows["samples"].tolist() == [4]
    assert any("agreement needs a second trace" in i.value for i in at.info)


def test_two_traces_show_agreement_export_and_label_frames(env):
    mid = _video(env, {"ana": RAMP, "bob": {**RAMP, "arousal": [0.6, 0.4, 0.2, 0.0]}})
    at = _page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["valence CCC"] == "1.000" and float(metrics["arousal CCC"]) < 0
    assert float(metrics["arousal same direction"]) == 0.0
    export = at.get("download_button")[0]
    assert export.proto.label.startswith("Export CSV")
    at.button(key="trace_label_frames").click().run()
    assert not at.exception
    assert any("Labelled 6 frame samples" in s.value for s in at.success), [e.value for e in at.error]
    with read_session() as s:
        cur = {x.frame_index: (x.cur_valence, x.cur_arousal) for x in
               s.scalars(select(Sample).where(Sample.media_id == mid))}
    assert cur[10] == (0.0, pytest.approx(0.3)) and cur[15] == (0.25, pytest.approx(0.3))  # ana/bob mean


def test_the_export_holds_one_row_per_frame(env):
    from ui.trace import export

    mid = _video(env, {"ana": RAMP, "bob": RAMP})
    rows = list(csv.DictReader(io.StringIO(export(mid))))
    assert len(rows) == 30 and set(rows[0]) >= {"frame", "time", "ana_valence", "bob_arousal", "consensus_valence"}
