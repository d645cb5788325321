"""Live: your webcam through the model in real time, with overlays, and capture to a dataset.

Frames go browser -> server over WebRTC (streamlit-webrtc); LiveProcessor.on_video_frame
predicts, smooths and draws on a worker thread and hands results to this page through a queue
that a fragment reads twice a second. ICE servers come from AFFECTLAB_ICE_SERVERS, a JSON list
of RTCIceServer dicts (unset: none, which works on localhost and most LANs). Behind NAT or a
firewall give it a TURN server, e.g. coturn
  AFFECTLAB_ICE_SERVERS='[{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}]'
or the "ice_servers" list of a Twilio Network Traversal token (see ui/webrtc.ice_configuration).
"""
from __future__ import annotations

import time

import cv2
import streamlit as st

from core.auth import AccessDenied
from core.faces.io import ImageError
from core.limits import LimitExceeded
from core.live import capture_to_dataset
from core.overlay import draw_overlays, emotion_text, stress_text, traits_text, va_text
from core.uploads import decode_upload
from ui.auth import identity
from ui.data import datasets
from ui.limits import upload_analysis
from ui.models import model_error_ui, model_select_ui
from ui.models import predictor as load_model
from ui.text import md
from ui.webrtc import (
    IceConfigError,
    apply_patches,
    ice_configuration,
    live_processor,
    live_results_ui,
    live_streamer,
    overlay_options_ui,
    smoothing_ui,
)

st.session_state["page"] = "live"
apply_patches()
st.title("Live")
try:
    rtc = ice_configuration()
except IceConfigError as exc:
    st.error(f"{exc}. Using no ICE servers (localhost / LAN only).")
    rtc = {"iceServers": []}

left, right = st.columns([3, 2])
with right:
    entry = model_select_ui(key="live_model", where=st)  # the default, trained runs, exports
    try:
        predictor = load_model(entry, warm=True)
    except Exception as exc:  # noqa: BLE001 - a damaged file: a message, not a traceback
        model_error_ui(entry, exc)
    smoothing = smoothing_ui()
    overlays = overlay_options_ui()
processor = live_processor(predictor)
# every script run, also while streaming: the frame thread picks the new settings on its next frame
processor.configure(predictor=predictor, smoothing=smoothing, overlays=overlays)
with left:
    ctx = live_streamer("live", processor, rtc)
    st.caption("Camera refused? Allow it for this site (the camera icon or lock in the address bar), "
               "then reload; browsers only offer cameras on https or localhost. Stuck on "
               "\"Connecting\"? WebRTC cannot reach the server: set AFFECTLAB_ICE_SERVERS, or use "
               "snapshots below (or the Upload page).")

playing, signalling = ctx.state.playing, ctx.state.signalling
if playing:
    st.session_state.setdefault("live_since", time.time())
else:
    st.session_state.pop("live_since", None)
with right:
    if signalling and not playing:
        st.info("Connecting to the server...")
    elif not playing:
        st.info("Live video is not playing: press START and allow the camera.")

    @st.fragment(run_every=0.5 if playing else None)
    def results_panel() -> None:
        since = st.session_state.get("live_since")
        live_results_ui(processor.results.latest(), playing=playing,
                        waited_s=time.time() - since if since else 0.0)

    results_panel()

    names = [d["name"] for d in datasets()] or ["live"]
    target = st.selectbox("Capture into dataset", names, key="live_capture_dataset", accept_new_options=True,
                          help="The current face is added as an unlabelled sample (type a new name to create one)")
    if st.button("Capture face", key="live_capture", icon=":material/photo_camera:"):
        snap = processor.results.latest()
        if snap is None or snap.crop is None:
            st.warning("No face in the latest frame: start the camera and look into it.")
        else:
            try:
                added = capture_to_dataset(target or "live", snap, identity=identity())
            except (ValueError, AccessDenied) as exc:
                st.error(md(exc))  # may quote the typed dataset name
            else:
                datasets.clear()
                st.success(f"Added to {md(added['dataset'])}" if added["added"] else
                           f"Already in {md(added['dataset'])}")
                st.image(cv2.cvtColor(snap.crop, cv2.COLOR_BGR2RGB), width=112)

if st.toggle("Use snapshots instead of live video", key="live_snapshots",
             help="When WebRTC cannot connect: one still photo at a time over plain HTTP"):
    photo = st.camera_input("Snapshot", key="live_photo")
    preds = None
    try:  # size cap and pixel budget before any pixel is decoded, as on Upload
        frame = decode_upload(photo.getvalue(), name=photo.name) if photo is not None else None
    except ImageError as exc:
        st.error(md(exc))
        frame = None
    if frame is not None:
        try:
            with upload_analysis(photo.file_id):  # the visitor's budget (core.limits), once per photo
                preds = predictor.predict_frame(frame)
        except LimitExceeded as exc:
            st.warning(md(exc))
    if preds is not None:
        st.image(cv2.cvtColor(draw_overlays(frame, preds, overlays), cv2.COLOR_BGR2RGB))
        if not preds:
            st.caption("No face found in the snapshot.")
        for p in preds:
            st.caption(md(f"{emotion_text(p)} · {va_text(p)} {p.valence:+.2f} / {p.arousal:+.2f} · "
                          f"{stress_text(p)}" + (f" · {traits_text(p)}" if traits_text(p) else "")))
