"""WebRTC glue for the Live page: ICE config from the environment, library patches, the
per-viewer LiveProcessor, the FrameSink the stream calls, and the streamer itself.

The stale-state patch (streamlit-webrtc 0.79.0, applied for everyone by apply_patches)
----------------------------------------------------------------------------------------
webrtc_streamer resets its context when Streamlit's `script_run_count` says the component
was not rendered in the previous run (the user left the page and came back). That counter
is bumped late, on the event-loop thread, when the "script finished" message is sent, so right
after START the check can see a jump of two runs and reset a live connection: the browser
falls back to START with 0 frames ("Context ... was not rendered for 1 script runs; resetting
stale state"). Real users hit it as well as tests (a browser test passed 52/56 with the check,
19/19 without it). We therefore
  1. make `streamlit_webrtc.component.get_this_session_info` return None, which disables the
     racy run-count check (and the snapshot-restore workaround, needed only with several
     streamers on one page; we have one), and only on the pinned 0.79.0 - another version
     is left alone and logs a warning, so an upgrade forces a second look;
  2. keep the check's purpose with a race-free test (forget_stale_stream): Streamlit drops the
     state of every widget a completed full run did not render, in the script thread, so if
     the component's own widget state is gone, the previous full run did not show the
     player and the context is reset exactly as the library would.
The same patch lets the page run under AppTest (always "not playing").
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import streamlit as st

from core.live import LiveProcessor
from core.model.prior import PRIOR_NOTE
from core.overlay import OverlayOptions

log = logging.getLogger(__name__)
ICE_ENV = "AFFECTLAB_ICE_SERVERS"  # JSON list of RTCIceServer dicts (see ice_configuration)
E2E_ENV = "AFFECTLAB_E2E"  # "1": loopback-only test mode (aioice offers 127.0.0.1)
COUNTER_ENV = "AFFECTLAB_E2E_FRAME_COUNTER"  # test mode: file receiving the frame count
PATCHED_WEBRTC = "0.79.0"
_PATCHED: set[str] = set()


class IceConfigError(ValueError):
    """AFFECTLAB_ICE_SERVERS is not a JSON list of {"urls": ..., "username"?, "credential"?}."""


def ice_configuration(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """RTCConfiguration for browser and server from AFFECTLAB_ICE_SERVERS.

    Unset or empty: {"iceServers": []}, i.e. host candidates only (same machine or LAN; no
    public STUN server is contacted). Examples:
      coturn:  [{"urls": ["turn:turn.example.org:3478?transport=udp",
                          "turn:turn.example.org:3478?transport=tcp"],
                 "username": "affectlab", "credential": "s3cret"}]
      Twilio:  the "ice_servers" list of a Network Traversal token (short-lived; its legacy
               "url" keys are accepted), e.g.
               [{"urls": "stun:global.stun.twilio.com:3478"},
                {"urls": "turn:global.turn.twilio.com:3478?transport=udp",
                 "username": "<token username>", "credential": "<token password>"}]
      STUN:    [{"urls": "stun:stun.l.google.com:19302"}]
    An object {"iceServers": [...]} is accepted too.
    """
    raw = (os.environ if environ is None else environ).get(ICE_ENV, "").strip()
    if not raw:
        return {"iceServers": []}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise IceConfigError(f"{ICE_ENV} is not valid JSON: {exc}") from exc
    servers = value.get("iceServers") if isinstance(value, dict) else value
    if not isinstance(servers, list):
        raise IceConfigError(f"{ICE_ENV} must be a JSON list of ICE servers")
    return {"iceServers": [_ice_server(i, server) for i, server in enumerate(servers)]}


def _ice_server(i: int, server: Any) -> dict[str, Any]:
    """One checked RTCIceServer dict; Twilio's legacy "url" key is accepted and dropped."""
    if not isinstance(server, dict):
        raise IceConfigError(f"{ICE_ENV}[{i}] must be an object")
    urls = server.get("urls", server.get("url"))
    listed = [urls] if isinstance(urls, str) else urls
    if not (isinstance(listed, list) and listed and all(isinstance(u, str) for u in listed)):
        raise IceConfigError(f"{ICE_ENV}[{i}] needs \"urls\": a string or a list of strings")
    if not all(u.split(":", 1)[0] in ("stun", "stuns", "turn", "turns") for u in listed):
        raise IceConfigError(f"{ICE_ENV}[{i}]: urls must start with stun:, stuns:, turn: or turns:")
    extra = set(server) - {"urls", "url", "username", "credential"}
    if extra:
        raise IceConfigError(f"{ICE_ENV}[{i}]: unknown keys {sorted(extra)}")
    return {"urls": urls, **{k: server[k] for k in ("username", "credential") if k in server}}


def e2e_mode() -> bool:
    return os.environ.get(E2E_ENV) == "1"


def apply_patches() -> None:
    """The stale-state patch (always, see the module docstring) and, in test mode only, make
    aioice offer 127.0.0.1, which it normally leaves out of its host candidates."""
    if "stale" not in _PATCHED:
        import streamlit_webrtc.component as component

        if version("streamlit-webrtc") == PATCHED_WEBRTC:
            component.get_this_session_info = lambda: None
        else:
            log.warning("streamlit-webrtc %s is not %s: stale-state patch not applied; check "
                        "ui/webrtc.py", version("streamlit-webrtc"), PATCHED_WEBRTC)
        _PATCHED.add("stale")
    if e2e_mode() and "loopback" not in _PATCHED:
        import aioice.ice

        aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=False: ["127.0.0.1"]
        _PATCHED.add("loopback")


def forget_stale_stream(key: str) -> bool:
    """Reset the streamer context when the previous full run did not render the player (race-free
    replacement of the library's run-count check); True if it reset."""
    from streamlit_webrtc.component import _reset_context, generate_frontend_component_key

    context = st.session_state.get(key)
    if context is None or generate_frontend_component_key(key) in st.session_state:
        return False
    _reset_context(context)
    return True


def live_processor(predictor: Any, *, key: str = "live_processor") -> LiveProcessor:
    """This viewer's LiveProcessor (kept in session state; smoothing state is per viewer)."""
    if key not in st.session_state:
        counter = os.environ.get(COUNTER_ENV) if e2e_mode() else None
        st.session_state[key] = LiveProcessor(predictor, counter_path=counter)
    return st.session_state[key]


def overlay_options_ui() -> OverlayOptions:
    """Toggles for each overlay (two columns); returns the chosen OverlayOptions."""
    d = OverlayOptions()
    a, b = st.columns(2)
    return OverlayOptions(
        box=a.toggle("Face box", d.box, key="live_ov_box"),
        label=a.toggle("Emotion label", d.label, key="live_ov_label"),
        bars=a.toggle("Probability bars", d.bars, key="live_ov_bars"),
        circumplex=b.toggle("V/A circumplex", d.circumplex, key="live_ov_va"),
        stress=b.toggle("Stress gauge", d.stress, key="live_ov_stress"))


def smoothing_ui() -> float:
    """Temporal smoothing strength (0 = off)."""
    on = st.toggle("Temporal smoothing", True, key="live_smooth_on",
                   help="EMA over each face's probabilities, V/A and stress; faces tracked by box overlap")
    strength = st.slider("Smoothing strength", 0.05, 0.95, 0.6, 0.05, key="live_smooth",
                         disabled=not on, help="Weight of the past: higher is steadier but slower")
    return float(strength) if on else 0.0


class FrameSink:
    """The object streamlit-webrtc's video_processor_factory returns: hands each frame to this
    viewer's LiveProcessor (the newest queued frame; older ones are stale for a live view).

    Why not `video_frame_callback=processor.on_video_frame`: the library then re-registers the
    callback on every script run under a lock that its frame loop holds while a frame is being
    processed. With the stream saturated (a frame always waiting) the loop re-takes the lock at
    once, so the page's script run - and every toggle, smoothing or model change after it -
    waited behind the stream for seconds to minutes. With a processor factory the library never
    touches that lock; the page reconfigures the LiveProcessor directly (LiveProcessor.configure
    swaps whole objects; the frame thread reads them once per frame).
    """

    def __init__(self, processor: LiveProcessor):
        self.processor = processor

    def recv(self, frame: Any) -> Any:
        return self.processor.on_video_frame(frame)

    async def recv_queued(self, frames: list[Any]) -> list[Any]:
        return [self.processor.on_video_frame(frames[-1])]


def live_streamer(key: str, processor: LiveProcessor, rtc_configuration: dict[str, Any]) -> Any:
    """The webrtc_streamer (camera -> server FrameSink -> annotated video back)."""
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    forget_stale_stream(key)
    return webrtc_streamer(
        key=key, mode=WebRtcMode.SENDRECV, rtc_configuration=rtc_configuration,
        media_stream_constraints={"video": True, "audio": False},
        video_processor_factory=lambda: FrameSink(processor), async_processing=True)


def live_results_ui(snapshot: Any, *, playing: bool, waited_s: float = 0.0) -> None:
    """Text readout of the latest LiveSnapshot: top emotion, V/A, stress, fps, latency."""
    from core.overlay import emotion_text, stress_text, va_text

    if snapshot is None:
        if playing and waited_s > 10:
            st.warning("The camera is connected but no frames reach the server. The network may "
                       "block WebRTC media: set AFFECTLAB_ICE_SERVERS to a TURN server, or use the "
                       "snapshot fallback below.")
        else:
            st.caption("Waiting for frames..." if playing else "Press START to stream your camera.")
        return
    if snapshot.error:
        st.error(f"Frame processing failed: {snapshot.error}")
    if snapshot.predictions:
        face = snapshot.predictions[0]
        st.subheader(emotion_text(face), anchor=False)
        st.markdown(f"**{va_text(face)}** {face.valence:+.2f} / {face.arousal:+.2f} · "
                    f"**{stress_text(face).rsplit(' ', 1)[0]}** {face.stress:.2f}",
                    help=f"valence / arousal in [-1, 1], stress in [0, 1]; (prior) = {PRIOR_NOTE}")
    else:
        st.subheader("No face in view", anchor=False)
    st.markdown(f"**FPS** {snapshot.fps:.1f} · **Latency** {snapshot.latency_ms:.1f} ms",
                help="frames processed per second and mean processing time per frame, last 2 s")
    extra = f" · {len(snapshot.predictions)} faces" if len(snapshot.predictions) > 1 else ""
    st.caption(f"frame {snapshot.frame_index} · model {snapshot.model_version}{extra}"
               + ("" if playing else " · stopped (last result)"))
