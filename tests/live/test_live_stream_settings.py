"""Settings changed on the Live page reach a running stream: the FrameSink the stream calls reads
the LiveProcessor the page reconfigures, with no lock shared with the script thread."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core.live import LiveProcessor
from core.overlay import ACCENT, OverlayOptions
from ui.webrtc import FrameSink

NO_OVERLAYS = OverlayOptions(box=False, label=False, bars=False, circumplex=False, stress=False)


def accent_pixels(bgr: np.ndarray) -> int:
    return int(np.all(bgr == np.array(ACCENT, np.uint8), axis=-1).sum())


def test_overlays_switched_off_mid_stream_apply_within_a_second(predictor, video_frames):
    import av

    proc = LiveProcessor(predictor, smoothing=0.0)
    sink = FrameSink(proc)
    done: list[tuple[float, int]] = []  # (time the frame started, accent pixels drawn)
    stop = threading.Event()

    def stream() -> None:  # streamlit-webrtc's worker thread, saturated: always a frame waiting
        i = 0
        while not stop.is_set():
            started = time.monotonic()
            frame = av.VideoFrame.from_ndarray(video_frames[i % len(video_frames)].copy(), format="bgr24")
            done.append((started, accent_pixels(sink.recv(frame).to_ndarray(format="bgr24"))))
            i += 1

    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not any(n > 300 for _, n in done) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(n > 300 for _, n in done), done[-5:]  # the overlays are drawn
        switched = time.monotonic()
        proc.configure(predictor=predictor, smoothing=0.0, overlays=NO_OVERLAYS)  # a page rerun
        assert time.monotonic() - switched < 0.1  # the page is never held up by the stream
        while not any(t > switched for t, _ in done) and time.monotonic() < switched + 30:
            time.sleep(0.05)
        after = [n for t, n in done if t > switched]
        assert after and after[0] == 0, after[:5]  # the next frame already has no overlay
    finally:
        stop.set()
        thread.join(30)


def test_frame_sink_keeps_the_newest_queued_frame(predictor, video_frames):
    import asyncio

    import av

    proc = LiveProcessor(predictor, smoothing=0.0)
    frames = [av.VideoFrame.from_ndarray(f.copy(), format="bgr24") for f in video_frames[:3]]
    for i, f in enumerate(frames):
        f.pts = i
    out = asyncio.run(FrameSink(proc).recv_queued(frames))
    assert len(out) == 1 and out[0].pts == 2 and proc.stats.count == 1


def test_live_streamer_hands_the_stream_a_processor_factory(monkeypatch):
    """Not video_frame_callback: streamlit-webrtc re-registers a callback on every script run
    under the lock its frame loop holds while processing, which stalled every page rerun."""
    import streamlit_webrtc

    import ui.webrtc as webrtc

    seen = {}
    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", lambda **kw: seen.update(kw) or "ctx")
    monkeypatch.setattr(webrtc, "forget_stale_stream", lambda key: False)
    proc = LiveProcessor(object())
    assert webrtc.live_streamer("live", proc, {"iceServers": []}) == "ctx"
    assert "video_frame_callback" not in seen and seen["async_processing"] is True
    sink = seen["video_processor_factory"]()
    assert isinstance(sink, FrameSink) and sink.processor is proc


@pytest.mark.parametrize("field", ["box", "label", "bars", "circumplex", "stress"])
def test_configure_swaps_overlay_options_whole(predictor, field):
    proc = LiveProcessor(predictor)
    wanted = OverlayOptions(**{field: not getattr(OverlayOptions(), field)})
    proc.configure(overlays=wanted)
    assert proc.overlays is wanted
