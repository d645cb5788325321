"""CMU-MOSEI's MTurk batches: one row per rater (Input.VIDEO_ID, Input.CLIP, WorkerId, Answer.*), averaged per clip.

A clip's times come from the segmented transcripts (`<video_id>___<clip>___<start>___<end>___<text>`)
when its full video is present, else the clip is the segmented video `<video_id>_<clip>.mp4` whole.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from core.ingest.records import RowError
from core.ingest.segments import Segment
from core.ingest.tables import is_missing, parse_float
from core.label_schema import mosei_schema
from core.taxonomy import LabelError

KEYS = ("Input.VIDEO_ID", "Input.CLIP", "WorkerId")
ANSWERS = ("Answer.happiness", "Answer.sadness", "Answer.anger", "Answer.surprise", "Answer.disgust",
           "Answer.fear")
SENTIMENT = "Answer.sentiment"
MAX_TRANSCRIPT_BYTES = 64 * 1024**2


def transcript_times(files: list[Path]) -> dict[tuple[str, str], tuple[float, float]]:
    """(video id, clip) -> (start, end) from segmented transcripts; lines that do not parse are ignored
    (the text may hold runs of underscores: split with maxsplit=4)."""
    times: dict[tuple[str, str], tuple[float, float]] = {}
    for f in files:
        if f.stat().st_size > MAX_TRANSCRIPT_BYTES:
            continue
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("___", 4)
            if len(parts) < 4:
                continue
            try:
                times[(parts[0].strip(), parts[1].strip())] = (max(float(parts[2]), 0.0), float(parts[3]))
            except ValueError:
                continue
    return times


def _rater(row: dict[str, str], file: str, line: int) -> tuple[dict[str, float], float | None] | list[RowError]:
    """One rater's six intensities (0..3) and sentiment (-3..3), or the row's errors."""
    schema, errors, values = mosei_schema(), [], {}
    for col in ANSWERS:
        try:
            x = parse_float(row[col], col)
            if not 0.0 <= x <= 3.0:
                raise LabelError(f"{col} intensity {x:g} is outside [0, 3]")
            values[schema.class_name(col.removeprefix("Answer."))] = x
        except LabelError as exc:
            errors.append(RowError(file, line, col, str(exc)))
    sentiment = None
    if not is_missing(row.get(SENTIMENT)):
        try:
            sentiment = schema.check_targets({"sentiment": parse_float(row[SENTIMENT], SENTIMENT)})["sentiment"]
        except LabelError as exc:
            errors.append(RowError(file, line, SENTIMENT, str(exc)))
    return errors or (values, sentiment)


def mturk_clips(rows: Iterator[tuple[int, dict[str, str]]], header: list[str], file: str
                ) -> tuple[dict[tuple[str, str], dict], list[RowError]]:
    """(video id, clip) -> averaged labels {"line", "raters", "intensities", "sentiment"}; a rater who
    rated one clip twice is an error."""
    missing = [c for c in (*KEYS, *ANSWERS) if c not in header]
    if missing:
        return {}, [RowError(file, None, None, f"{file}: missing column(s) {', '.join(missing)}")]
    clips: dict[tuple[str, str], dict] = {}
    seen: dict[tuple[str, str, str], int] = {}
    errors: list[RowError] = []
    for line, row in rows:
        if "__error__" in row:
            errors.append(RowError(file, line, None, row["__error__"]))
            continue
        video, clip, worker = (row[k].strip() for k in KEYS)
        if not video or not clip or any(c in video + clip for c in "/\\\x00"):
            errors.append(RowError(file, line, "Input.VIDEO_ID", "video id and clip must be plain names"))
            continue
        if (video, clip, worker) in seen:
            errors.append(RowError(file, line, "WorkerId", f"{worker[:40]} rated {video} clip {clip} already on "
                                                           f"line {seen[video, clip, worker]}"))
            continue
        seen[video, clip, worker] = line
        got = _rater(row, file, line)
        if isinstance(got, list):
            errors += got
            continue
        acc = clips.setdefault((video, clip), {"line": line, "raters": [], "sentiments": []})
        acc["raters"].append(got[0])
        if got[1] is not None:
            acc["sentiments"].append(got[1])
    return {k: _average(v) for k, v in clips.items()}, errors


def _average(acc: dict) -> dict:
    n = len(acc["raters"])
    means = {c: sum(r[c] for r in acc["raters"]) / n for c in acc["raters"][0]}
    sentiment = sum(acc["sentiments"]) / len(acc["sentiments"]) if acc["sentiments"] else None
    return {"line": acc["line"], "raters": n, "intensities": means, "sentiment": sentiment}


def clip_segment(labels: dict, file: str, clip: str, times: tuple[float, float] | None) -> Segment:
    """The averaged clip as a labelled segment: [start, end] of the full video, or the whole clip file."""
    raw = {"intensities": labels["intensities"], "raters": labels["raters"], "clip": clip,
           "scale": {"intensity": "0..3", "sentiment": "-3..3"}}
    targets = None
    if labels["sentiment"] is not None:
        raw["sentiment"] = labels["sentiment"]
        targets = {"sentiment": labels["sentiment"]}
    fields = {"distribution": mosei_schema().check_distribution(labels["intensities"]), "raw": raw,
              "targets": targets}
    start, end = times if times else (0.0, None)
    return Segment(file, labels["line"], start, end, fields)
