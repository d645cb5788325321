"""V/A traces: play a stored video and trace valence/arousal continuously; every annotator's traces,
their agreement and consensus, the frame-aligned export, and frame labels from the consensus."""
from __future__ import annotations

import streamlit as st

from core.auth import Role
from core.traces import TraceError
from ui.auth import can
from ui.components.va_trace import va_trace
from ui.state import annotator
from ui.text import md
from ui.trace import export, label_frames, report, save, traces, traces_figure, video_url, videos

RATE_HZ = 10.0

st.session_state["page"] = "trace"
st.title("Continuous V/A traces")
media = videos()
if not media:
    st.info("No video in the store yet: import one (`affectlab import video FOLDER --dataset NAME`) or "
            "upload it on the Upload page.")
    st.stop()
m = st.selectbox("Video", media, format_func=lambda v: f"#{v['id']} · {v['name']}", key="trace_media")
who = annotator()

st.caption(f"Play the video and move the pad (mouse, trackpad or arrow keys; Shift = bigger steps, "
           f"Space = play/pause): the pad is sampled {RATE_HZ:.0f} times a second against the video's time. "
           "Seek back and play again to re-record a segment; Save stores the trace as a new recording.")
try:
    url = video_url(m["id"])
except TraceError as exc:
    st.error(str(exc))
    url = None
if url is not None:
    value = va_trace(url, duration=m["duration"], rate_hz=RATE_HZ, key=f"va_trace_{m['id']}")
    handled = st.session_state.setdefault("trace_saved_nonce", {})
    if value and value.get("nonce") != handled.get(m["id"]):
        handled[m["id"]] = value.get("nonce")
        if who is None:
            st.session_state["trace_msg"] = (False, "Not saved: enter your name in the sidebar first.")
        else:
            st.session_state["trace_msg"] = save(m["id"], who, value)
    if msg := st.session_state.pop("trace_msg", None):
        (st.success if msg[0] else st.error)(md(msg[1]))

saved = traces(m["id"])
st.subheader("Saved traces")
if not saved:
    st.info("No trace of this video yet.")
    st.stop()
st.dataframe([{"trace": t["id"], "annotator": t["annotator"], "mode": t["mode"], "samples": t["samples"],
               "from (s)": round(t["start"], 2), "to (s)": round(t["end"], 2), "saved": t["created_at"]}
              for t in saved], hide_index=True, key="trace_table")
rep = report(m["id"], RATE_HZ)
st.caption(f"Each annotator's newest trace, resampled to {RATE_HZ:.0f} Hz; consensus = their mean.")
for dim in ("valence", "arousal"):
    st.plotly_chart(traces_figure(rep, dim), key=f"trace_plot_{dim}")

st.subheader("Agreement")
if rep["agreement"] is None:
    st.info("One annotator so far: agreement needs a second trace.")
else:
    st.caption("Mean over annotator pairs, on the times both traced: CCC of the values (absolute), CCC of "
               "the first differences and the share of steps moving the same way (relative, as PAGAN "
               "recommends; chance is about 1/3).")
    for dim in ("valence", "arousal"):
        a = rep["agreement"][dim]
        cols = st.columns(4)
        cols[0].markdown(f"**{dim}** · {len(a['pairs'])} pair(s)")
        for col, (label, k) in zip(cols[1:], (("CCC", "ccc"), ("CCC of changes", "ccc_diff"),
                                              ("same direction", "sign"))):
            col.metric(f"{dim} {label}", "n/a" if a[k] is None else f"{a[k]:.3f}")

st.subheader("Export and labels")
csv_text = export(m["id"])
if csv_text is None:
    st.warning("This video has no frame rate or frame count in the store: no frame-aligned export.")
else:
    st.download_button("Export CSV (one row per frame)", csv_text, file_name=f"traces_media{m['id']}.csv",
                       mime="text/csv", key="trace_export")
if st.button("Label frames from consensus", key="trace_label_frames", disabled=not can(Role.ANNOTATOR),
             help="Frame samples of this video get the consensus V/A as derived labels (human labels keep "
                  "priority)"):
    ok, text = label_frames(m["id"])
    (st.success if ok else st.error)(md(text))
