"""The V/A trace recorder: a bidirectional Streamlit component (plain HTML + JS in frontend/, no build
step) that plays a video, samples a circumplex pad (or one dimension) at a fixed rate against the
media time, lets a segment be re-recorded, and returns the trace on Save."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

FRONTEND = Path(__file__).parent / "frontend"
_component = components.declare_component("va_trace", path=str(FRONTEND))


def va_trace(video_url: str, *, duration: float | None, rate_hz: float = 10.0, mode: str = "2d",
             height: int = 520, key: str | None = None) -> dict[str, Any] | None:
    """Render the recorder; the last saved trace {"samples": {"t", "valence", "arousal"}, "mode",
    "rate_hz", "nonce"} (a new nonce per Save), or None before the first Save."""
    return _component(video=video_url, duration=duration, rate_hz=rate_hz, mode=mode, height=height,
                      key=key, default=None)
