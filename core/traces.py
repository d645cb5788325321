"""Continuous valence/arousal traces over a video: resampling, agreement, consensus, frame export (pure).

A trace is a set of samples (t, valence, arousal) with t in seconds of media time; either dimension
may be missing (None/NaN) when it was traced in a 1-D mode. Traces are compared on a common time grid
(linear interpolation between samples, NaN outside a trace's first..last sample).

Agreement, per dimension, over every pair of traces on the grid steps both cover:
- ``ccc``: mean pairwise Lin's concordance correlation coefficient of the values (absolute agreement);
- ``ccc_diff``: mean pairwise CCC of the first differences (relative agreement: how the traces move);
- ``sign``: mean pairwise share of grid steps where the first differences have the same sign, a step
  smaller than ``eps`` counting as "no change" (0). This is the relative, ordinal comparison PAGAN
  (Melhart et al., 2019) found more reliable across annotators than absolute values; chance is ~1/3.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

DIMS = ("valence", "arousal")
EPS = 0.01  # a first difference below this (on the -1..1 scale) is "no change" for the sign agreement


class TraceError(ValueError):
    """A trace that cannot be used (no samples, times not finite, values outside -1..1)."""


@dataclass(frozen=True)
class Trace:
    """One annotator's trace: sorted times and the two dimensions (NaN where not traced)."""
    name: str
    t: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray

    def dim(self, dim: str) -> np.ndarray:
        return self.valence if dim == "valence" else self.arousal


def make_trace(name: str, samples: Mapping[str, Sequence[Any]]) -> Trace:
    """A Trace from {"t": [...], "valence": [...], "arousal": [...]} (None = not traced); samples are
    sorted by time and a repeated time keeps its last sample. TraceError names what is wrong."""
    raw_t = samples.get("t")
    t = np.asarray([] if raw_t is None else raw_t, dtype=float)
    if t.size == 0:
        raise TraceError(f"trace {name!r}: no samples")
    values = {}
    for d in DIMS:
        raw = samples.get(d)
        arr = np.full(t.size, np.nan) if raw is None else np.array([np.nan if v is None else v for v in raw], float)
        if arr.size != t.size:
            raise TraceError(f"trace {name!r}: {arr.size} {d} values for {t.size} times")
        bad = np.flatnonzero(np.abs(arr[np.isfinite(arr)]) > 1.0 + 1e-9)
        if bad.size:
            raise TraceError(f"trace {name!r}: {d} outside -1..1 ({arr[np.isfinite(arr)][bad[0]]})")
        values[d] = arr
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise TraceError(f"trace {name!r}: times must be finite seconds >= 0")
    order = np.argsort(t, kind="stable")
    t = t[order]
    keep = np.append(t[1:] != t[:-1], True)  # the last sample of a repeated time
    return Trace(name, t[keep], values["valence"][order][keep], values["arousal"][order][keep])


def grid(traces: Sequence[Trace], rate_hz: float = 10.0, duration: float | None = None) -> np.ndarray:
    """Times 0, 1/rate, ... up to `duration` (default: the last sample of any trace)."""
    end = duration if duration is not None else max(float(tr.t[-1]) for tr in traces)
    return np.arange(0.0, end + 1e-9, 1.0 / rate_hz)


def resample(trace: Trace, times: np.ndarray, dim: str) -> np.ndarray:
    """`dim` of `trace` at `times`: linear between samples, NaN outside its span or where not traced."""
    values = trace.dim(dim)
    ok = np.isfinite(values)
    if ok.sum() == 0:
        return np.full(times.size, np.nan)
    t, v = trace.t[ok], values[ok]
    out = np.interp(times, t, v)
    out[(times < t[0] - 1e-9) | (times > t[-1] + 1e-9)] = np.nan
    return out


def ccc(x: np.ndarray, y: np.ndarray) -> float | None:
    """Lin's concordance correlation coefficient (population moments) on steps where both are finite;
    None with fewer than 2 such steps or when both are constant and equal everywhere undefined."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return None
    x, y = x[ok], y[ok]
    mx, my = x.mean(), y.mean()
    den = x.var() + y.var() + (mx - my) ** 2
    if den == 0:
        return 1.0  # identical constant traces
    return float(2 * ((x - mx) * (y - my)).mean() / den)


def sign_agreement(x: np.ndarray, y: np.ndarray, eps: float = EPS) -> float | None:
    """Share of steps where the first differences of x and y have the same sign (|d| < eps is 0)."""
    dx, dy = np.diff(x), np.diff(y)
    ok = np.isfinite(dx) & np.isfinite(dy)
    if not ok.any():
        return None
    sx = np.where(np.abs(dx[ok]) < eps, 0, np.sign(dx[ok]))
    sy = np.where(np.abs(dy[ok]) < eps, 0, np.sign(dy[ok]))
    return float((sx == sy).mean())


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def agreement(traces: Sequence[Trace], times: np.ndarray, eps: float = EPS) -> dict[str, Any]:
    """Per dimension: mean pairwise ccc, ccc_diff and sign (see the module docstring), the number of
    pairs compared, and each pair's values {"a", "b", "ccc", "ccc_diff", "sign"}."""
    out: dict[str, Any] = {}
    for d in DIMS:
        series = {tr.name: resample(tr, times, d) for tr in traces}
        pairs = []
        for a, b in combinations(series, 2):
            x, y = series[a], series[b]
            pair = {"a": a, "b": b, "ccc": ccc(x, y), "ccc_diff": ccc(np.diff(x), np.diff(y)),
                    "sign": sign_agreement(x, y, eps)}
            if pair["ccc"] is not None:
                pairs.append(pair)
        out[d] = {"ccc": _mean([p["ccc"] for p in pairs]), "ccc_diff": _mean([p["ccc_diff"] for p in pairs]),
                  "sign": _mean([p["sign"] for p in pairs]), "pairs": pairs}
    return out


def consensus(traces: Sequence[Trace], times: np.ndarray) -> dict[str, np.ndarray]:
    """Per dimension, the mean over the traces covering each grid time (NaN where none does)."""
    out = {}
    for d in DIMS:
        stack = np.vstack([resample(tr, times, d) for tr in traces])
        counts = np.isfinite(stack).sum(axis=0)
        total = np.nansum(stack, axis=0)
        out[d] = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    return out


def frame_times(fps: float, frames: int) -> np.ndarray:
    """The media time of each frame index 0..frames-1."""
    if not fps or fps <= 0 or frames <= 0:
        raise TraceError(f"media needs a frame rate and a frame count to align to frames (fps={fps}, "
                         f"frames={frames})")
    return np.arange(frames) / float(fps)


def _cell(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.4f}"


def export_csv(traces: Sequence[Trace], fps: float, frames: int) -> str:
    """CSV aligned to the media's frames: frame, time, then valence/arousal per trace
    (`<name>_valence`, ...) and the consensus; an empty cell where a trace does not cover the frame."""
    times = frame_times(fps, frames)
    cons = consensus(traces, times)
    cols = {f"{tr.name}_{d}": resample(tr, times, d) for tr in traces for d in DIMS}
    cols.update({f"consensus_{d}": cons[d] for d in DIMS})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["frame", "time", *cols])
    for i, t in enumerate(times):
        w.writerow([i, f"{t:.4f}", *(_cell(c[i]) for c in cols.values())])
    return buf.getvalue()

