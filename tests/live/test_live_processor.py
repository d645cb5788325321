"""core.live: smoothing, fps/latency stats, the results queue, and the frame callback on real video."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

from core.config import REPO_ROOT
from core.live import (
    FrameStats,
    LiveProcessor,
    LiveResults,
    LiveSnapshot,
    Smoother,
    capture_to_dataset,
)
from core.overlay import ACCENT, OverlayOptions
from tests.live.common import CLASSES, face


def noisy_faces(n: int, seed: int = 0, *, bbox=(200.0, 150.0, 120.0, 120.0), jitter: float = 0.15):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = float(np.clip(0.6 + rng.normal(0, jitter), 0.2, 0.95))
        v, a = np.clip(rng.normal([0.5, 0.2], jitter), -1, 1)
        box = tuple(np.asarray(bbox) + rng.normal(0, 2, 4))
        out.append(face(p=p, va=(float(v), float(a)), stress=float(np.clip(0.3 + rng.normal(0, jitter), 0, 1)),
                        bbox=box))
    return out


def test_smoothing_reduces_jitter_of_probs_va_and_stress():
    raw = noisy_faces(200)
    smoother = Smoother(0.7)
    smooth = [smoother([f])[0] for f in raw]
    for get in (lambda f: f.probs["Happy"], lambda f: f.valence, lambda f: f.arousal, lambda f: f.stress):
        r, s = np.array([get(f) for f in raw]), np.array([get(f) for f in smooth])
        assert np.std(np.diff(s)) < 0.5 * np.std(np.diff(r))  # frame-to-frame jitter
        assert abs(s[50:].mean() - r[50:].mean()) < 0.05  # no bias once warmed up
    assert all(abs(sum(f.probs.values()) - 1) < 1e-9 for f in smooth)
    assert all(f.confidence == max(f.probs.values()) and f.probs[f.emotion] == f.confidence for f in smooth)


def test_zero_strength_is_a_pass_through_and_bad_strength_is_refused():
    raw = noisy_faces(5)
    smoother = Smoother(0.0)
    assert [smoother([f])[0].probs for f in raw] == [f.probs for f in raw]
    with pytest.raises(ValueError):
        Smoother(1.0)


def test_faces_are_tracked_separately_by_iou():
    left = noisy_faces(60, 1, bbox=(50.0, 100.0, 100.0, 100.0))
    right = [face(emotion="Sad", p=0.9, va=(-0.6, -0.4), bbox=(400.0, 100.0, 100.0, 100.0))] * 60
    smoother = Smoother(0.8)
    for i, (a, b) in enumerate(zip(left, right)):
        out = smoother([b, a] if i % 2 else [a, b])  # order in the list does not matter
    by_x = sorted(out, key=lambda f: f.bbox[0])
    assert by_x[0].emotion == "Happy" and by_x[1].emotion == "Sad"
    assert by_x[1].valence == pytest.approx(-0.6) and by_x[0].valence > 0  # never blended


def test_a_lost_face_starts_a_fresh_track():
    smoother = Smoother(0.9, max_missed=2)
    for _ in range(30):
        smoother([face(emotion="Happy", p=0.9)])
    for _ in range(3):
        smoother([])
    back = smoother([face(emotion="Sad", p=0.9)])[0]
    assert back.emotion == "Sad" and back.confidence == pytest.approx(0.9)


def test_frame_stats_fps_latency_and_window():
    clock = iter(np.arange(0, 10, 1 / 30)).__next__
    stats = FrameStats(window_s=2.0, clock=clock)
    for _ in range(90):
        stats.add(0.005)
    assert stats.fps == pytest.approx(30, rel=0.02) and stats.latency_ms == pytest.approx(5)
    for _ in range(90):
        stats.add(0.020)  # the 5 ms frames leave the 2 s window
    assert stats.latency_ms == pytest.approx(20) and stats.count == 180
    assert FrameStats().fps == 0.0 and FrameStats().latency_ms == 0.0


def snap(i: int, thread: int = 0) -> LiveSnapshot:
    return LiveSnapshot(frame_index=i, timestamp=float(thread), predictions=(), fps=0.0, latency_ms=0.0)


def test_results_queue_is_thread_safe_and_bounded():
    results = LiveResults(maxlen=50)
    writers, per_writer = 8, 2000
    drained: list[LiveSnapshot] = []
    stop = threading.Event()

    def write(t: int) -> None:
        for i in range(per_writer):
            results.put(snap(i, t))

    def read() -> None:
        while not stop.is_set():
            latest = results.latest()
            assert latest is None or isinstance(latest, LiveSnapshot)
            batch = results.drain()
            assert len(batch) <= 50
            drained.extend(batch)

    readers = [threading.Thread(target=read) for _ in range(2)]
    threads = [threading.Thread(target=write, args=(t,)) for t in range(writers)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    drained.extend(results.drain())
    assert results.published == writers * per_writer
    assert len(drained) <= results.published and len({id(s) for s in drained}) == len(drained)
    for t in range(writers):  # each writer's snapshots come out in order
        mine = [s.frame_index for s in drained if s.timestamp == t]
        assert mine == sorted(mine)
    assert results.latest() is not None and results.latest().frame_index == per_writer - 1


class FakePredictor:
    model_version = "fake@0"

    def __init__(self, preds=None, fail: bool = False):
        self.preds, self.fail = preds or [], fail

    def predict_frame(self, frame, *, detector=None):
        self.detector = detector
        if self.fail:
            raise RuntimeError("boom")
        return list(self.preds)


def test_processor_publishes_counts_and_survives_errors(tmp_path):
    counter = tmp_path / "frames.txt"
    proc = LiveProcessor(FakePredictor([face()]), smoothing=0.5, counter_path=counter)
    for _ in range(5):
        out = proc.process(np.zeros((480, 640, 3), np.uint8))
    assert (out == np.array(ACCENT, np.uint8)).all(axis=-1).any()
    latest = proc.results.latest()
    assert latest.frame_index == 5 and latest.model_version == "fake@0" and latest.error is None
    assert latest.crop is None  # the fake found no crop: nothing is aligned a second time
    assert proc.predictor.detector == "short"  # streams run one BlazeFace range per frame
    assert counter.read_text() == "5"
    proc.configure(predictor=FakePredictor(fail=True))
    assert proc.results.latest() is None and proc.smoother is not None  # new model: results reset
    frame = np.zeros((480, 640, 3), np.uint8)
    assert proc.process(frame) is frame and not frame.any()
    assert "RuntimeError: boom" in proc.results.latest().error and counter.read_text() == "6"


def test_configure_switches_smoothing_and_overlays():
    proc = LiveProcessor(FakePredictor(), smoothing=0.0)
    assert proc.smoother is None
    proc.configure(smoothing=0.8, overlays=OverlayOptions(box=False))
    assert proc.smoother.strength == 0.8 and proc.overlays.box is False
    kept = proc.smoother
    proc.configure(smoothing=0.8)
    assert proc.smoother is kept  # same strength: tracks survive a page rerun
    proc.configure(smoothing=0.0)
    assert proc.smoother is None


def test_core_live_never_imports_streamlit():
    code = "import sys, core.live, core.overlay; assert 'streamlit' not in sys.modules, 'streamlit'"
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


def test_callback_on_real_video_frames_predicts_and_draws_on_the_face(predictor, video_frames, tmp_path):
    """The webrtc callback as a plain function, on its own thread: av.VideoFrame in and out."""
    import av

    proc = LiveProcessor(predictor, counter_path=tmp_path / "n")
    raw = video_frames[:40]
    outputs: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for i, img in enumerate(raw):
                frame = av.VideoFrame.from_ndarray(img.copy(), format="bgr24")
                frame.pts, frame.time_base = i, Fraction(1, 30)
                outputs.append(proc.on_video_frame(frame))
        except BaseException as exc:  # re-raised on the test thread below
            errors.append(exc)

    worker = threading.Thread(target=run)  # like streamlit-webrtc: no ScriptRunContext here
    worker.start()
    worker.join()
    assert not errors, errors
    snaps = proc.results.drain()
    assert len(outputs) == len(snaps) == 40 and (tmp_path / "n").read_text() == "40"
    assert all(s.error is None for s in snaps)
    with_face = [s for s in snaps if s.predictions]
    assert len(with_face) >= 36
    latest = snaps[-1]
    assert latest.predictions[0].emotion in CLASSES and latest.fps > 0 and latest.latency_ms > 0
    assert latest.crop.shape == (112, 112, 3)
    assert latest.crop is latest.predictions[0].crop  # aligned once: the model's crop is captured
    assert latest.predictions[0].flags == {"emotion": "trained", "va": "prior", "stress": "prior"}
    out = outputs[-1].to_ndarray(format="bgr24")
    assert outputs[-1].pts == 39 and outputs[-1].time_base == Fraction(1, 30) and out.shape == raw[-1].shape
    accent = np.all(out == np.array(ACCENT, np.uint8), axis=-1)
    assert not np.all(raw[-1] == np.array(ACCENT, np.uint8), axis=-1).any()  # not in the video itself
    x, y, w, h = (int(round(v)) for v in latest.predictions[0].bbox)
    ring = accent[max(y - 4, 0):y + h + 5, max(x - 4, 0):x + w + 5].copy()
    ring[8:-8, 8:-8] = False
    assert ring.sum() > 2 * (w + h)  # the face box is drawn around the detected face
    print(f"callback: {latest.fps:.1f} fps, {latest.latency_ms:.1f} ms per frame")


def test_capture_adds_the_face_as_an_unlabelled_sample(live_env, predictor, video_frames):
    from sqlalchemy import select

    from core.config import get_settings
    from core.store.db import read_session
    from core.store.models import Dataset, Sample
    from core.store.predictions import latest_predictions

    proc = LiveProcessor(predictor)
    proc.process(video_frames[10].copy())
    snapshot = proc.results.latest()
    first = capture_to_dataset("captures", snapshot)
    again = capture_to_dataset("captures", snapshot)
    assert first["added"] == 1 and again == {**first, "added": 0, "existing": 1}
    with read_session() as s:
        sample = s.scalar(select(Sample).join(Dataset).where(Dataset.name == "captures"))
        assert sample.cur_emotion is None and sample.cur_valence is None  # unlabelled
        assert sample.bbox and sample.source_path.startswith("live/fer_mini_xception@")
        # the live model's answer comes along, once, as the sample's prediction (not a label)
        preds = latest_predictions(s, sample.id)
        face = snapshot.predictions[0]
        assert [(p.emotion, p.model_version) for p in preds] == [(face.emotion, snapshot.model_version)]
        assert preds[0].valence == pytest.approx(face.valence) and preds[0].flags == face.flags
    assert (get_settings().data_dir / first["crop_path"]).is_file()
    with pytest.raises(ValueError, match="no face"):
        capture_to_dataset("captures", LiveSnapshot(frame_index=1, timestamp=time.time(), predictions=(),
                                                    fps=0, latency_ms=0))


def test_processor_builds_the_stream_pipeline_before_the_first_frame():
    class Warmable(FakePredictor):
        built: list = []

        def pipeline_for(self, detector):
            self.built.append(detector)

    first, second = Warmable(), Warmable()
    proc = LiveProcessor(first)
    assert first.built == ["short"]
    proc.configure(predictor=second)  # a model switch warms the new one too
    assert Warmable.built == ["short", "short"]
