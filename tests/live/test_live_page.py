"""AppTest of the Live page through app.py, the ICE configuration and the library patches."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT
from tests.live.common import CLASSES
from ui.webrtc import IceConfigError, ice_configuration


@pytest.fixture
def live_app(live_env):
    """app.py on the Live page, the store seeded so app.py skips building the demo."""
    import streamlit as st

    from core.store.db import write_session
    from tests.store.seed import seed_samples

    with write_session() as s, s.begin():
        seed_samples(s, 4, dataset="demo")
    st.cache_data.clear()

    def make() -> AppTest:
        at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60).run()
        at.switch_page("app_pages/live.py").run()
        assert not at.exception, at.exception
        return at

    yield make
    st.cache_data.clear()


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_live_page_renders_not_playing_with_its_controls(live_app):
    at = live_app()
    assert texts(at.title) == ["Live"]
    assert any("not playing" in t for t in texts(at.info))
    assert any("Press START" in t for t in texts(at.caption))
    assert any("Camera refused?" in t and "AFFECTLAB_ICE_SERVERS" in t for t in texts(at.caption))
    labels = {t.label: t.value for t in at.toggle}
    assert labels == {"Face box": True, "Emotion label": True, "Probability bars": False,
                      "V/A circumplex": True, "Stress gauge": True, "Temporal smoothing": True,
                      "Use snapshots instead of live video": False}
    assert at.selectbox(key="live_model").options == ["Pretrained FER mini-Xception (default)"]
    assert at.slider(key="live_smooth").value == 0.6
    assert at.button(key="live_capture").label == "Capture face"
    assert not at.error


def test_page_controls_reach_the_processor(live_app):
    at = live_app()
    at.toggle(key="live_ov_bars").set_value(True)
    at.toggle(key="live_ov_box").set_value(False)
    at.slider(key="live_smooth").set_value(0.3).run()
    proc = at.session_state["live_processor"]
    assert proc.overlays.bars and not proc.overlays.box and proc.smoother.strength == 0.3
    at.toggle(key="live_smooth_on").set_value(False).run()
    assert at.session_state["live_processor"].smoother is None
    assert at.slider(key="live_smooth").disabled


def test_results_readout_and_capture_of_the_latest_face(live_app, video_frames):
    from sqlalchemy import func, select

    from core.store.db import read_session
    from core.store.models import Dataset, Sample

    at = live_app()
    at.button(key="live_capture").click().run()
    assert any("No face" in w.value for w in at.warning)
    at.session_state["live_processor"].process(video_frames[5].copy())  # as the callback would
    at.run()  # the results panel shows the callback's last result
    assert texts(at.subheader)[0] in {f"{c} {p}%" for c in CLASSES for p in range(101)}
    readout = " ".join(texts(at.markdown))
    assert "**V/A (prior)**" in readout and "**Stress (prior)**" in readout and "**Latency**" in readout
    assert any("stopped (last result)" in t for t in texts(at.caption))
    assert at.selectbox(key="live_capture_dataset").value == "demo"  # (AppTest cannot type a new name)
    at.button(key="live_capture").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Added to demo"]
    with read_session() as s:
        n = s.scalar(select(func.count(Sample.id)).join(Dataset).where(Dataset.name == "demo"))
    assert n == 5  # 4 seeded + the captured face
    at.button(key="live_capture").click().run()
    assert [s.value for s in at.success] == ["Already in demo"]


def test_invalid_ice_env_is_reported_and_the_page_still_works(live_app, monkeypatch):
    monkeypatch.setenv("AFFECTLAB_ICE_SERVERS", "[{not json")
    at = live_app()
    assert any("AFFECTLAB_ICE_SERVERS is not valid JSON" in e.value for e in at.error)
    assert any("not playing" in t for t in texts(at.info))


def test_snapshot_fallback_can_be_switched_on(live_app):
    at = live_app()
    at.toggle(key="live_snapshots").set_value(True).run()
    assert not at.exception, at.exception


def test_leaving_the_page_resets_the_stream_but_a_rerun_does_not(live_app):
    """The race-free replacement of streamlit-webrtc's stale-state check (ui/webrtc.py)."""
    from streamlit_webrtc.component import WebRtcStreamerState

    at = live_app()
    ctx = at.session_state["live"]

    def pretend_streaming() -> None:
        ctx._set_state(WebRtcStreamerState(playing=True, signalling=False))
        ctx._sdp_answer_json, ctx._is_sdp_answer_sent = '{"sdp": "x", "type": "answer"}', True

    pretend_streaming()
    at.run()  # a rerun on the page, however late Streamlit counts runs: nothing is reset
    assert ctx.state.playing and ctx._sdp_answer_json
    at.switch_page("app_pages/overview.py").run()
    at.switch_page("app_pages/live.py").run()
    assert not at.exception, at.exception
    assert at.session_state["live"] is ctx
    assert not ctx.state.playing and ctx._sdp_answer_json is None and not ctx._is_sdp_answer_sent


def test_ice_configuration_from_the_environment():
    assert ice_configuration({}) == {"iceServers": []}
    assert ice_configuration({"AFFECTLAB_ICE_SERVERS": "  "}) == {"iceServers": []}
    turn = [{"urls": ["turn:turn.example.org:3478?transport=udp"], "username": "u", "credential": "p"},
            {"urls": "stun:stun.example.org:3478"}]
    assert ice_configuration({"AFFECTLAB_ICE_SERVERS": json.dumps(turn)}) == {"iceServers": turn}
    wrapped = json.dumps({"iceServers": turn})
    assert ice_configuration({"AFFECTLAB_ICE_SERVERS": wrapped}) == {"iceServers": turn}
    twilio = [{"url": "stun:global.stun.twilio.com:3478", "urls": "stun:global.stun.twilio.com:3478"},
              {"url": "turn:global.turn.twilio.com:3478?transport=udp", "username": "abc", "credential": "xyz",
               "urls": "turn:global.turn.twilio.com:3478?transport=udp"}]
    assert ice_configuration({"AFFECTLAB_ICE_SERVERS": json.dumps(twilio)}) == {"iceServers": [
        {"urls": "stun:global.stun.twilio.com:3478"},
        {"urls": "turn:global.turn.twilio.com:3478?transport=udp", "username": "abc", "credential": "xyz"}]}


@pytest.mark.parametrize("raw, message", [
    ("[{", "not valid JSON"),
    ('{"urls": "stun:x"}', "must be a JSON list"),
    ('[{"username": "u"}]', "needs \"urls\""),
    ('[{"urls": []}]', "needs \"urls\""),
    ('[{"urls": "http://x"}]', "must start with stun:"),
    ('[{"urls": "turn:x", "password": "p"}]', "unknown keys"),
    ('["stun:x"]', "must be an object"),
])
def test_bad_ice_configuration_is_refused(raw, message):
    with pytest.raises(IceConfigError, match=message):
        ice_configuration({"AFFECTLAB_ICE_SERVERS": raw})


PATCH_PROBE = """
import aioice.ice, streamlit_webrtc.component as c
original = aioice.ice.get_host_addresses
from ui.webrtc import apply_patches
apply_patches()
print(c.get_this_session_info() is None, aioice.ice.get_host_addresses is original,
      aioice.ice.get_host_addresses(True, False))
"""


@pytest.mark.parametrize("e2e, loopback", [("", False), ("1", True)])
def test_stale_state_patch_always_loopback_patch_only_in_test_mode(e2e, loopback):
    env = {k: v for k, v in __import__("os").environ.items() if k != "AFFECTLAB_E2E"}
    if e2e:
        env["AFFECTLAB_E2E"] = e2e
    out = subprocess.run([sys.executable, "-c", PATCH_PROBE], cwd=REPO_ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout.split(" ", 2)
    assert out[0] == "True"  # the run-count check is off for everyone
    assert (out[1] == "False") == loopback
    assert ("['127.0.0.1']" == out[2].strip()) == loopback


def test_streamlit_webrtc_is_pinned_to_the_patched_version():
    from ui.webrtc import PATCHED_WEBRTC

    pins = (REPO_ROOT / "requirements.txt").read_text()
    assert f"streamlit-webrtc=={PATCHED_WEBRTC}" in pins


def test_a_trained_run_is_offered_and_reaches_the_processor(live_app, live_env):
    """The catalog feeds the Live page: a succeeded run appears, choosing it swaps the model of
    this viewer's processor (smoothing restarts, results cleared)."""
    from core.config import get_settings
    from core.store.db import write_session
    from core.store.models import Run
    from tests.inference.common import make_tiny_resnet

    ckpt = make_tiny_resnet(get_settings().models_dir / f"run-{os.getpid()}" / "best.pt")
    with write_session() as s, s.begin():
        run = Run(name="tiny live", status="succeeded", checkpoint_path=str(ckpt))
        s.add(run)
        s.flush()
        run_id = run.id
    import ui.models

    ui.models.model_entries.clear()
    at = live_app()
    options = at.selectbox(key="live_model").options
    assert options[:2] == ["Pretrained FER mini-Xception (default)", f"run {run_id}: tiny live"]
    default = at.session_state["live_processor"].predictor
    at.selectbox(key="live_model").set_value(f"run {run_id}: tiny live").run()
    assert not at.exception, at.exception
    chosen = at.session_state["live_processor"].predictor
    assert chosen is not default and chosen.checkpoint == ckpt
    assert chosen.model_version.startswith(f"run-{os.getpid()}@")
