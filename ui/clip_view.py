"""A clip sample on screen: its frame strip (one image row, times, masked slots marked), a player
for its source segment with the audio, and the grid badge "clip · N frames · S s"."""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.clips.strip import ClipSegment, StripError, clip_segment, clip_strip, clip_summaries, segment_mp4
from core.store.clips import ClipInfo, get_clip
from core.store.db import read_session

TILE = 72  # strip tile width in pixels


def clip_of(sample_id: int) -> ClipInfo | None:
    """The sample's clip, or None when it is a still face."""
    with read_session() as s:
        return get_clip(s, sample_id)


@st.cache_data(ttl=30, show_spinner=False)
def clip_badges(sample_ids: tuple[int, ...]) -> dict[int, str]:
    """sample id -> "clip · N frames · S s" for the clips among these samples."""
    with read_session() as s:
        found = clip_summaries(s, sample_ids)
    return {sid: f":material/movie: clip · {c.frames} frames · {c.seconds:.1f} s" for sid, c in found.items()}


def with_clip_badges(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grid rows with a "clip" caption on each clip (ui.grid draws it under the tile)."""
    badges = clip_badges(tuple(r["id"] for r in rows))
    return [dict(r, clip=badges[r["id"]]) if r["id"] in badges else r for r in rows]


def strip_caption(seconds: float, frame_index: int, masked: bool) -> str:
    """A tile's caption: its time, and why it is grey when the slot is masked."""
    if not masked:
        return f"{seconds:.2f} s"
    return f"{seconds:.2f} s · {'no frame' if frame_index < 0 else 'no face'}"


def clip_strip_ui(clip: ClipInfo, *, width: int = TILE) -> None:
    """The clip's N aligned crops in one image row, each captioned with its time; masked slots are
    grey "no face" tiles captioned so."""
    from core.viz import bgr_to_rgb

    try:
        frames = clip_strip(clip)
    except StripError as exc:
        st.warning(str(exc))
        return
    masked = sum(f.masked for f in frames)
    st.caption(f"**{len(frames)} frames** sampled ({clip.rule.get('mode', 'even')})"
               + (f" · {masked} without the clip's face (grey)" if masked else ""))
    st.image([bgr_to_rgb(f.image) for f in frames], width=width,
             caption=[strip_caption(f.seconds, f.frame_index, f.masked) for f in frames])


@st.cache_data(ttl=600, max_entries=4, show_spinner="Cutting the segment for the player…")
def _cut(sample_id: int, path: str, start: float, end: float, has_audio: bool) -> bytes:
    from pathlib import Path

    return segment_mp4(ClipSegment(sample_id, Path(path), start, end, has_audio))


def clip_player_ui(clip: ClipInfo) -> None:
    """A player for the clip's segment of its source video, with its audio ("no audio track" when
    the source has none). A web video plays from the source over the segment's whole seconds; any
    other (AVI, FLV, a very large file) is cut to the exact segment first."""
    seg = clip_segment(clip)
    if seg.path is None:
        st.warning(seg.why)
        return
    if seg.direct:
        start, end = seg.player_range()
        st.video(str(seg.path), start_time=start, end_time=end)
        shown = f" (the player takes whole seconds: {start}–{end} s)" if (start, end) != (seg.start, seg.end) else ""
    else:
        try:
            data = _cut(seg.sample_id, str(seg.path), seg.start, seg.end, seg.has_audio)
        except (StripError, ValueError, OSError) as exc:
            st.warning(f"the segment cannot be played: {exc}")
            return
        st.video(data, format="video/mp4")
        shown = " (cut from the source for the player)"
    st.caption(f"segment {seg.start:.2f}–{seg.end:.2f} s of the source{shown}"
               + ("" if seg.has_audio else " · no audio track"))


def sample_columns_ui(sample_id: int, crop_path: str, *, width: int = 320) -> tuple[Any, Any]:
    """The editor's layout (Relabel, a task's assignments): the left column shows a still's crop,
    or a clip's player under its frame strip drawn across the page; returns (left, right)."""
    from core.viz import bgr_to_rgb, crop_image

    clip = clip_of(sample_id)
    if clip is not None:
        clip_strip_ui(clip)
    left, right = st.columns([2, 3])
    with left:
        if clip is None:
            st.image(bgr_to_rgb(crop_image(crop_path)), width=width, caption=f"sample #{sample_id}")
        else:
            clip_player_ui(clip)
            st.caption(f"clip sample #{sample_id}")
    return left, right
