"""The live path, no Streamlit: frame -> predictions -> EMA smoothing -> overlay -> frame.

LiveProcessor.on_video_frame is the WebRTC callback. It runs on streamlit-webrtc's worker
thread, touches no st.* and no database, and hands its results to the page through LiveResults
(a lock-guarded bounded queue of LiveSnapshot). Capturing a face to the store happens on the
page's thread with capture_to_dataset.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.auth import Identity, Role, require
from core.faces.detect import STREAM_DETECTOR  # one BlazeFace range per frame
from core.faces.types import iou  # noqa: F401 - shared box overlap, re-exported
from core.inference.prediction import FacePrediction
from core.overlay import OverlayOptions, draw_overlays

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveSnapshot:
    """What the page may show about one processed frame."""

    frame_index: int  # 1-based count of frames processed by this processor
    timestamp: float  # time.time() when processing finished
    predictions: tuple[FacePrediction, ...]  # after smoothing, highest detector score first
    fps: float  # frames processed per second over the stats window
    latency_ms: float  # mean processing time per frame over the stats window
    # the first face's canonical crop: the very pixels the model was given (before its resize)
    crop: np.ndarray | None = field(default=None, repr=False)
    model_version: str = ""
    error: str | None = None  # the exception of this frame, if processing failed


class LiveResults:
    """Thread-safe hand-off from the callback thread to the page: a bounded FIFO of snapshots.

    The callback put()s one snapshot per frame (the oldest fall off); the page reads latest()
    without consuming it, or drain()s everything published since the last drain.
    """

    def __init__(self, maxlen: int = 64):
        self._items: deque[LiveSnapshot] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._latest: LiveSnapshot | None = None
        self.published = 0

    def put(self, snapshot: LiveSnapshot) -> None:
        with self._lock:
            self._items.append(snapshot)
            self._latest = snapshot
            self.published += 1

    def latest(self) -> LiveSnapshot | None:
        with self._lock:
            return self._latest

    def drain(self) -> list[LiveSnapshot]:
        with self._lock:
            out = list(self._items)
            self._items.clear()
            return out

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._latest = None


class FrameStats:
    """Frames per second and mean latency over a sliding time window."""

    def __init__(self, window_s: float = 2.0, clock: Callable[[], float] = time.perf_counter):
        self.window_s, self.clock = window_s, clock
        self._events: deque[tuple[float, float]] = deque()  # (time, latency seconds)
        self.count = 0

    def add(self, latency_s: float, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        self._events.append((now, latency_s))
        self.count += 1
        while self._events and self._events[0][0] < now - self.window_s:
            self._events.popleft()

    @property
    def fps(self) -> float:
        if len(self._events) < 2:
            return 0.0
        span = self._events[-1][0] - self._events[0][0]
        return (len(self._events) - 1) / span if span > 0 else 0.0

    @property
    def latency_ms(self) -> float:
        return 1000.0 * float(np.mean([lat for _, lat in self._events])) if self._events else 0.0


@dataclass
class _Track:
    bbox: tuple[float, float, float, float]
    probs: np.ndarray
    va: np.ndarray
    stress: float
    missed: int = 0


class Smoother:
    """EMA over each face's probabilities, valence/arousal and stress; faces are tracked from
    frame to frame by box IoU (greedy, best overlap first). strength in [0, 1): the weight of
    the past (0 = no smoothing). A track unseen for more than max_missed frames is forgotten."""

    def __init__(self, strength: float = 0.6, *, min_iou: float = 0.3, max_missed: int = 5):
        if not 0.0 <= strength < 1.0:
            raise ValueError("smoothing strength must be in [0, 1)")
        self.strength, self.min_iou, self.max_missed = strength, min_iou, max_missed
        self._tracks: list[_Track] = []

    def __call__(self, preds: Sequence[FacePrediction]) -> list[FacePrediction]:
        pairs = sorted(((iou(t.bbox, p.bbox), ti, pi) for ti, t in enumerate(self._tracks)
                        for pi, p in enumerate(preds) if p.bbox is not None), reverse=True)
        match: dict[int, int] = {}
        used: set[int] = set()
        for overlap, ti, pi in pairs:
            if overlap >= self.min_iou and pi not in match and ti not in used:
                match[pi] = ti
                used.add(ti)
        out, fresh = [], []
        for pi, pred in enumerate(preds):
            if pi in match:
                out.append(self._update(self._tracks[match[pi]], pred))
            else:
                fresh.append(_Track(pred.bbox or (0, 0, 0, 0), np.array(list(pred.probs.values())),
                                    np.array([pred.valence, pred.arousal]), pred.stress))
                out.append(pred)
        for ti, track in enumerate(self._tracks):
            track.missed = 0 if ti in used else track.missed + 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed] + fresh
        return out

    def _update(self, track: _Track, pred: FacePrediction) -> FacePrediction:
        s = self.strength
        track.bbox = pred.bbox
        track.probs = s * track.probs + (1 - s) * np.array(list(pred.probs.values()))
        track.va = s * track.va + (1 - s) * np.array([pred.valence, pred.arousal])
        track.stress = s * track.stress + (1 - s) * pred.stress
        names = list(pred.probs)
        top = int(np.argmax(track.probs))
        return replace(pred, probs={n: float(p) for n, p in zip(names, track.probs)},
                       emotion=names[top], confidence=float(track.probs[top]),
                       valence=float(track.va[0]), arousal=float(track.va[1]), stress=float(track.stress))


class LiveProcessor:
    """Per-viewer frame processor around a shared, thread-safe Predictor.

    configure() may be called from the page while frames flow: settings are swapped as whole
    objects, which the callback thread picks up on its next frame. counter_path (a test hook)
    receives the number of frames processed so far after every frame.
    """

    def __init__(self, predictor: Any, *, smoothing: float = 0.6, overlays: OverlayOptions = OverlayOptions(),
                 results: LiveResults | None = None, counter_path: str | Path | None = None):
        self.predictor, self.overlays = _warmed(predictor), overlays
        self.smoother: Smoother | None = Smoother(smoothing) if smoothing > 0 else None
        self.results = results or LiveResults()
        self.stats = FrameStats()
        self.counter_path = Path(counter_path) if counter_path else None
        self._last_error: str | None = None

    def configure(self, *, predictor: Any = None, smoothing: float | None = None,
                  overlays: OverlayOptions | None = None) -> None:
        """Swap the model (which restarts smoothing: two models' outputs never blend), the
        smoothing strength (0 = off) or the overlays."""
        strength = self.smoother.strength if self.smoother else 0.0
        new_model = predictor is not None and predictor is not self.predictor
        if new_model:
            self.predictor = _warmed(predictor)
            self.results.clear()
        target = strength if smoothing is None else smoothing
        if new_model or target != strength:
            self.smoother = Smoother(target) if target > 0 else None
        if overlays is not None:
            self.overlays = overlays

    def process(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Annotate a BGR frame in place and publish a snapshot; errors leave the frame as is."""
        predictor, smoother, overlays = self.predictor, self.smoother, self.overlays
        start = time.perf_counter()
        preds: list[FacePrediction] = []
        crop, error = None, None
        try:
            preds = predictor.predict_frame(frame_bgr, detector=STREAM_DETECTOR)
            if smoother is not None:
                preds = smoother(preds)
            crop = preds[0].crop if preds else None  # aligned once, for the model and capture
            draw_overlays(frame_bgr, preds, overlays)
        except Exception as exc:  # a bad frame must not kill the stream
            error = f"{type(exc).__name__}: {exc}"
            if error != self._last_error:  # log a repeated failure once, not 30 times a second
                log.exception("live frame processing failed")
        self._last_error = error
        self.stats.add(time.perf_counter() - start)
        self.results.put(LiveSnapshot(
            frame_index=self.stats.count, timestamp=time.time(), predictions=tuple(preds),
            fps=self.stats.fps, latency_ms=self.stats.latency_ms, crop=crop,
            model_version=getattr(predictor, "model_version", ""), error=error))
        if self.counter_path is not None:
            _write_count(self.counter_path, self.stats.count)
        return frame_bgr

    def on_video_frame(self, frame: Any) -> Any:
        """The webrtc_streamer video_frame_callback: av.VideoFrame in, annotated av.VideoFrame out."""
        import av

        image = frame.to_ndarray(format="bgr24")
        out = av.VideoFrame.from_ndarray(self.process(image), format="bgr24")
        out.pts = frame.pts
        if frame.time_base is not None:
            out.time_base = frame.time_base
        return out


def _warmed(predictor: Any) -> Any:
    """The predictor, its stream face pipeline built now (on the page's thread) rather than on
    the first frame; predictors without one (test fakes) are returned as they are."""
    build = getattr(predictor, "pipeline_for", None)
    if build is not None:
        build(STREAM_DETECTOR)
    return predictor


def _write_count(path: Path, count: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(str(count))
    os.replace(tmp, path)


PREDICTION_KEYS = ("probs", "emotion", "confidence", "valence", "arousal", "stress", "flags")


def capture_to_dataset(dataset: str, snapshot: LiveSnapshot, *, source: str = "live",
                       identity: Identity | None = None) -> dict[str, Any]:
    """Store the snapshot's first face as an unlabelled sample of dataset (created if new), with
    the live model's prediction for it (Relabel shows it; accepting it records which it was).

    Call from the page's thread, never from the frame callback. Idempotent by crop content.
    Adding samples is an import: admins only (core.auth).
    """
    require(identity, Role.ADMIN, "capturing faces into a dataset")
    from sqlalchemy import select

    from core.ingest.commit import commit_samples
    from core.ingest.files import BlobStore
    from core.ingest.records import PendingSample
    from core.store.datasets import get_or_create_dataset
    from core.store.db import write_session
    from core.store.models import Sample
    from core.store.predictions import record_predictions

    if snapshot.crop is None or not snapshot.predictions:
        raise ValueError("no face in the latest frame to capture")
    face = snapshot.predictions[0]
    blobs = BlobStore()  # holds the crop store's lock shared from put() until released below
    try:
        sha, rel = blobs.put_crop_array(snapshot.crop)
        pending = PendingSample(
            crop_sha256=sha, crop_path=rel,
            source_path=f"{source}/{snapshot.model_version or 'model'}/frame-{snapshot.frame_index}",
            quality=face.quality, bbox=None if face.bbox is None else [float(v) for v in face.bbox],
            keypoints=None if face.keypoints is None else np.asarray(face.keypoints)[:, :2].round(2).tolist())
        with write_session() as s, s.begin():
            ds = get_or_create_dataset(s, dataset)
            counts = commit_samples(s, ds, [pending], rules=None)
            if counts["added"]:
                sid = s.scalar(select(Sample.id).where(Sample.dataset_id == ds.id, Sample.crop_sha256 == sha))
                record_predictions(s, [{"sample_id": sid, "model_version": snapshot.model_version or "live",
                                        **{k: v for k, v in face.to_dict().items() if k in PREDICTION_KEYS}}])
    except Exception:
        blobs.discard_new()  # releases the lock, then removes the new crop no row references
        raise
    finally:
        blobs.release()  # now, not when the BlobStore is garbage-collected: gc and clean-ups wait on it
    return {"dataset": dataset.strip(), "crop_path": rel, **counts}
