"""Stored V/A traces over a video: save (always a new row), list per media, load as core.traces.Trace,
the report (agreement, consensus), the frame-aligned export, and frame labels from the consensus."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Identity, Role, recorded_name, require
from core.paths import data_file
from core.store.current import append_labels
from core.store.labels import get_or_create_annotator
from core.store.models import Annotator, Media, Sample
from core.store.models_traces import VATrace
from core.traces import DIMS, Trace, TraceError, agreement, consensus, export_csv, grid, make_trace, resample

MODES = ("2d", "valence", "arousal")


def video_media(session: Session) -> list[dict[str, Any]]:
    """Every stored video: id, name, fps, frames, duration (s)."""
    rows = session.scalars(select(Media).where(Media.kind == "video").order_by(Media.id)).all()
    return [{"id": m.id, "name": m.original_name or Path(m.path).name, "fps": m.fps, "frames": m.frames,
             "duration": (m.frames / m.fps) if m.fps and m.frames else None} for m in rows]


def _video(session: Session, media_id: int) -> Media:
    media = session.get(Media, media_id)
    if media is None or media.kind != "video":
        raise TraceError(f"media {media_id}: no such video in the store")
    return media


def video_file(session: Session, media_id: int) -> Path:
    """The video's file inside the data dir (TraceError when missing or stored outside it)."""
    media = _video(session, media_id)
    path = data_file(media.path)
    if path is None:
        raise TraceError(f"media {media_id}: its file {media.path!r} is missing or outside the data dir")
    return path


def save_trace(session: Session, media_id: int, annotator: str, samples: dict[str, Any], *, mode: str = "2d",
               rate_hz: float = 10.0, note: str = "", identity: Identity | None = None) -> int:
    """Store one recording as a new row (earlier ones stay); its id. Refused (TraceError) when the
    samples are unusable or lie past the video's end; AccessDenied below the annotator role."""
    name = recorded_name(require(identity, Role.ANNOTATOR, "recording a trace"), annotator)
    media = _video(session, media_id)
    if mode not in MODES:
        raise TraceError(f"mode {mode!r}: one of {', '.join(MODES)}")
    if not rate_hz or rate_hz <= 0:
        raise TraceError(f"sampling rate {rate_hz!r}: must be > 0 Hz")
    trace = make_trace(name, samples)
    if media.fps and media.frames and trace.t[-1] > media.frames / media.fps + 1.0:
        raise TraceError(f"trace ends at {trace.t[-1]:.2f} s, past the end of media {media_id} "
                         f"({media.frames / media.fps:.2f} s)")
    stored = {"t": trace.t.tolist(), **{d: [None if not np.isfinite(v) else float(v) for v in trace.dim(d)]
                                        for d in DIMS}}
    row = VATrace(media_id=media_id, annotator_id=get_or_create_annotator(session, name).id, mode=mode,
                  rate_hz=float(rate_hz), n_samples=int(trace.t.size), samples=stored, note=note)
    session.add(row)
    session.flush()
    return row.id


def list_traces(session: Session, media_id: int) -> list[dict[str, Any]]:
    """Every trace of a media, oldest first: id, annotator, mode, rate_hz, samples, start, end, created_at."""
    rows = session.execute(select(VATrace, Annotator.name).join(Annotator, Annotator.id == VATrace.annotator_id)
                           .where(VATrace.media_id == media_id).order_by(VATrace.id)).all()
    return [{"id": r.id, "annotator": name, "mode": r.mode, "rate_hz": r.rate_hz, "samples": r.n_samples,
             "start": r.samples["t"][0], "end": r.samples["t"][-1], "created_at": r.created_at}
            for r, name in rows]


def load_traces(session: Session, media_id: int, *, latest: bool = True) -> list[tuple[int, Trace]]:
    """(id, Trace) per stored trace of the media; `latest`: only each annotator's newest recording
    (named by the annotator), else every recording (named "<annotator>#<id>")."""
    rows = session.execute(select(VATrace, Annotator.name).join(Annotator, Annotator.id == VATrace.annotator_id)
                           .where(VATrace.media_id == media_id).order_by(VATrace.id)).all()
    if latest:
        newest = {name: r for r, name in rows}
        return [(r.id, make_trace(name, r.samples)) for name, r in sorted(newest.items(), key=lambda x: x[1].id)]
    return [(r.id, make_trace(f"{name}#{r.id}", r.samples)) for r, name in rows]


def trace_report(session: Session, media_id: int, rate_hz: float = 10.0) -> dict[str, Any]:
    """The newest trace per annotator on a common grid: times, each trace's values, the consensus,
    and the agreement (core.traces.agreement); empty lists when the media has no trace."""
    media = _video(session, media_id)
    loaded = load_traces(session, media_id)
    if not loaded:
        return {"times": [], "traces": [], "consensus": {}, "agreement": None}
    traces = [tr for _, tr in loaded]
    duration = media.frames / media.fps if media.fps and media.frames else None
    times = grid(traces, rate_hz, duration)
    def listed(a: np.ndarray) -> list[float | None]:
        return [None if not np.isfinite(v) else float(v) for v in a]

    cons = consensus(traces, times)
    return {"times": times.tolist(),
            "traces": [{"id": i, "name": tr.name, **{d: listed(resample(tr, times, d)) for d in DIMS}}
                       for i, tr in loaded],
            "consensus": {d: listed(cons[d]) for d in DIMS},
            "agreement": agreement(traces, times) if len(traces) > 1 else None}


def export_traces_csv(session: Session, media_id: int) -> str:
    """The newest trace per annotator and the consensus, one row per frame of the video."""
    media = _video(session, media_id)
    loaded = load_traces(session, media_id)
    if not loaded:
        raise TraceError(f"media {media_id}: no trace recorded yet")
    return export_csv([tr for _, tr in loaded], media.fps or 0.0, media.frames or 0)


def label_frames_from_consensus(session: Session, media_id: int, *, identity: Identity | None = None) -> int:
    """Give every frame sample of the media the consensus V/A at its time, appended as derived labels
    with raw {"source": "trace", ...} through core.store.current (human/imported labels keep priority);
    the number of samples labelled (those inside the traced span)."""
    require(identity, Role.ANNOTATOR, "labelling frames from a trace consensus")
    media = _video(session, media_id)
    loaded = load_traces(session, media_id)
    if not loaded:
        raise TraceError(f"media {media_id}: no trace recorded yet")
    samples = session.execute(select(Sample.id, Sample.timestamp, Sample.frame_index)
                              .where(Sample.media_id == media_id).order_by(Sample.id)).all()
    timed = [(sid, ts if ts is not None else (fi / media.fps if fi is not None and media.fps else None))
             for sid, ts, fi in samples]
    timed = [(sid, t) for sid, t in timed if t is not None]
    if not timed:
        return 0
    cons = consensus([tr for _, tr in loaded], np.array([t for _, t in timed]))
    ids = [i for i, _ in loaded]
    rows = []
    for k, (sid, t) in enumerate(timed):
        values = {d: float(np.clip(cons[d][k], -1, 1)) for d in DIMS if np.isfinite(cons[d][k])}
        if values:
            rows.append({"sample_id": sid, "source": "derived", **values,
                         "raw": {"source": "trace", "media_id": media_id, "traces": ids, "time": float(t)}})
    if rows:
        append_labels(session, rows)
    return len(rows)
