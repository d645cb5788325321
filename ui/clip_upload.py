"""Upload page, clip mode: a clip model over the uploaded video -> per-window predictions (table
and chart) and the rendered mp4 with overlays and the source audio, offered as a download."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.limits import LimitExceeded
from core.video import VideoError
from ui.limits import analysis_slot
from ui.text import md

RESULT_KEY = "clip_result"


def clip_models() -> list[Any]:
    from core.catalog import CLIP_KINDS, list_models

    return [e for e in list_models(clips=True) if e.kind in CLIP_KINDS]


def clip_mode_ui() -> tuple[Any, float | None] | None:
    """(clip model entry, window seconds or None = whole video) when clip mode is on, else None."""
    if not st.toggle("Per-clip predictions (clip model)", False, key="up_clip"):
        return None
    entries = clip_models()
    if not entries:
        st.info("No clip model yet: queue a clip run on the Train page (a dataset with clips).")
        return None
    by_id = {e.id: e for e in entries}
    entry = by_id[st.selectbox("Clip model", list(by_id), format_func=lambda i: by_id[i].label, key="up_clip_model")]
    window = st.slider("Window seconds (0: the whole video as one clip)", 0.0, 10.0, 0.0, 0.5, key="up_clip_window")
    return entry, (window or None)


def analyse_clips_ui(path: Path, name: str, entry: Any, window: float | None) -> None:
    """Predict and render inline; the result and the mp4's bytes go to the session state."""
    from core.clips.predict_file import predict_clip_file

    st.session_state.pop(RESULT_KEY, None)
    bar = st.progress(0.0, text="clips...")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{Path(name).stem}_annotated.mp4"
        try:
            with analysis_slot():
                result = predict_clip_file(path, entry.path, window=window, render=out,
                                           progress=lambda done, total: bar.progress(done / total,
                                                                                     text=f"window {done}/{total}"))
        except LimitExceeded as exc:
            st.warning(md(exc))
            return
        except (VideoError, ValueError, LookupError, FileNotFoundError) as exc:
            st.error(md(str(exc).replace(str(path), name)))
            return
        video = out.read_bytes()
    bar.progress(1.0, text=f"{len(result['windows'])} window(s)")
    st.session_state[RESULT_KEY] = (name, result, video)


def window_table(result: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for w in result["windows"]:
        p = w["prediction"] or {}
        rows.append({"start_s": w["start"], "end_s": w["end"], "face_frames": w["face_frames"],
                     "emotion": ", ".join(p.get("emotions") or []) if p.get("mode") == "multi" else p.get("emotion"),
                     "confidence": p.get("confidence"), "valence": p.get("valence"), "arousal": p.get("arousal"),
                     "stress": p.get("stress"), "V/A": (p.get("flags") or {}).get("va"),
                     **(p.get("targets") or {}), "note": w.get("why", "")})
    return pd.DataFrame(rows)


def clip_result_ui() -> None:
    """The last clip analysis: per-window table, V/A over time, the annotated video and its download."""
    if RESULT_KEY not in st.session_state:
        return
    name, result, video = st.session_state[RESULT_KEY]
    model = result["model"]
    st.caption(f"{md(name)}: {model['kind']} clip model ({model['mode']} emotions, {model['frames']} frames per "
               f"clip), {len(result['windows'])} window(s) over {result['duration']:.1f} s")
    df = window_table(result)
    st.dataframe(df, hide_index=True, width="stretch", key="clip_table")
    if len(df) > 1 and df["valence"].notna().any():
        st.line_chart(df.set_index("start_s")[["valence", "arousal"]], height=220)
    st.video(video, format="video/mp4")
    st.download_button("Download annotated video (mp4, with audio)", video,
                       file_name=f"{Path(name).stem}_annotated.mp4", mime="video/mp4", key="download_clip_mp4")
