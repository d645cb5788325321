"""core.store.traces: append-only traces per annotator and media, report, export, frame labels."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import inspect, select

from core.auth import ANONYMOUS, AccessDenied
from core.store.models import Annotation, Sample
from core.store.traces import (
    export_traces_csv,
    label_frames_from_consensus,
    list_traces,
    load_traces,
    save_trace,
    trace_report,
    video_media,
)
from core.traces import TraceError
from tests.store.trace_seed import seed_video

RAMP = {"t": [0.0, 1.0, 2.0, 3.0], "valence": [-1.0, 0.0, 0.5, 1.0], "arousal": [0.0, 0.2, 0.4, 0.6]}
FLAT = {"t": [0.0, 3.0], "valence": [0.0, 0.0], "arousal": [0.6, 0.6]}


def test_traces_are_appended_never_overwritten(write, read):
    with write() as s, s.begin():
        mid = seed_video(s)
        first = save_trace(s, mid, "ana", RAMP)
        second = save_trace(s, mid, "ana", FLAT)
        save_trace(s, mid, "bob", {"t": [0.0, 2.0], "valence": [0.1, 0.3], "arousal": None}, mode="valence")
    with read() as s:
        listed = list_traces(s, mid)
        assert [(t["annotator"], t["samples"], t["mode"]) for t in listed] == [
            ("ana", 4, "2d"), ("ana", 2, "2d"), ("bob", 2, "valence")]
        assert [tr.name for _, tr in load_traces(s, mid)] == ["ana", "bob"]  # newest per annotator
        latest = dict((tr.name, tr) for _, tr in load_traces(s, mid))
        assert latest["ana"].valence.tolist() == [0.0, 0.0]
        every = load_traces(s, mid, latest=False)
        assert [tr.name for _, tr in every] == [f"ana#{first}", f"ana#{second}", f"bob#{second + 1}"]
        assert every[0][1].valence.tolist() == RAMP["valence"]  # the first recording is intact
        assert video_media(s)[0] == {"id": mid, "name": "face.mp4", "fps": 10.0, "frames": 30, "duration": 3.0}


def test_bad_traces_are_refused_and_nothing_stored(write, read):
    with write() as s, s.begin():
        mid = seed_video(s)
    with write() as s, s.begin():
        with pytest.raises(TraceError, match="past the end"):
            save_trace(s, mid, "ana", {"t": [0.0, 9.0], "valence": [0, 0], "arousal": [0, 0]})
        with pytest.raises(TraceError, match="valence outside"):
            save_trace(s, mid, "ana", {"t": [0.0], "valence": [2.0], "arousal": [0]})
        with pytest.raises(TraceError, match="no such video"):
            save_trace(s, 999, "ana", RAMP)
        with pytest.raises(AccessDenied, match="annotator role"):
            save_trace(s, mid, "ana", RAMP, identity=ANONYMOUS)
    with read() as s:
        assert list_traces(s, mid) == []


def test_report_agreement_and_frame_export(write, read):
    with write() as s, s.begin():
        mid = seed_video(s)
        save_trace(s, mid, "ana", RAMP)
        save_trace(s, mid, "bob", {**RAMP, "valence": [-0.8, 0.1, 0.6, 1.0]})
    with read() as s:
        rep = trace_report(s, mid, rate_hz=10)
        text = export_traces_csv(s, mid)
    assert len(rep["times"]) == 31 and [t["name"] for t in rep["traces"]] == ["ana", "bob"]
    assert rep["agreement"]["valence"]["ccc"] > 0.9 and rep["agreement"]["arousal"]["ccc"] == pytest.approx(1.0)
    assert rep["consensus"]["valence"][10] == pytest.approx(0.05)  # t = 1 s: (0 + 0.1) / 2
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 30 and rows[15]["time"] == "1.5000"
    assert float(rows[15]["ana_valence"]) == pytest.approx(0.25)
    assert float(rows[15]["consensus_valence"]) == pytest.approx((0.25 + 0.35) / 2)


def test_consensus_labels_frames_as_derived_trace_rows(write, read):
    with write() as s, s.begin():
        mid = seed_video(s)
        save_trace(s, mid, "ana", RAMP)
        save_trace(s, mid, "bob", RAMP)
    with write() as s, s.begin():
        with pytest.raises(AccessDenied):
            label_frames_from_consensus(s, mid, identity=ANONYMOUS)
        assert label_frames_from_consensus(s, mid) == 6  # frames 0, 5, ..., 25
    with read() as s:
        cur = {x.frame_index: (x.cur_valence, x.cur_arousal, x.cur_source)
               for x in s.scalars(select(Sample).where(Sample.media_id == mid))}
        rows = s.scalars(select(Annotation).where(Annotation.raw.is_not(None))).all()
    assert cur[10] == (pytest.approx(0.0), pytest.approx(0.2), "derived")
    assert cur[15] == (pytest.approx(0.25), pytest.approx(0.3), "derived")
    assert len(rows) == 6 and all(r.raw["source"] == "trace" and r.source == "derived" for r in rows)
    assert {r.raw["time"] for r in rows} == {0.0, 0.5, 1.0, 1.5, 2.0, 2.5}


def test_migration_0009_adds_and_drops_only_its_table(env):
    from core.config import get_settings
    from core.store.db import make_engine, migrate

    engine = make_engine(get_settings().db_url)
    migrate(engine, "0008")
    before = set(inspect(engine).get_table_names())
    migrate(engine, "0009")
    assert set(inspect(engine).get_table_names()) - before == {"va_traces"}
    migrate(engine, "0008", down=True)
    assert set(inspect(engine).get_table_names()) == before
    engine.dispose()
