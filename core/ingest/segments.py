"""Labelled video segments -> face samples: the speaker's face in frames sampled from [start, end]."""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.ingest.clip_build import build_clips, clip_rule
from core.ingest.context import ImportContext
from core.ingest.files import files_under
from core.ingest.media_import import _mesh_names, _store_media, detect_faces, open_video
from core.ingest.records import PendingSample, RowError
from core.video import DEFAULT_FPS, VIDEO_EXTS

EPS = 1e-6


@dataclass
class Segment:
    """One labelled stretch of a video (end None: to the end of the clip) and where its label came from."""
    file: str
    line: int | None
    start: float
    end: float | None
    labels: dict[str, Any] = field(default_factory=dict)  # PendingSample label fields (targets, raw ...)
    split: str | None = None


def index_videos(root: Path, ctx: ImportContext) -> tuple[dict[str, Path], list[RowError]]:
    """Video files under root by file name and by stem (links leading out of root refused)."""
    files, refused = files_under(root, VIDEO_EXTS)
    found: dict[str, Path] = {}
    for p in files:
        found.setdefault(p.name, p)
        found.setdefault(p.stem, p)
    return found, [RowError(ctx.rel(p), None, "video", reason) for p, reason in refused]


class _Times:
    """The times to sample in one segment: `frames` evenly spaced, else `fps` per second."""

    def __init__(self, seg: Segment, ctx: ImportContext, duration: float | None, fps: float):
        end = seg.end
        if end is None and duration:  # a whole clip: its last frame starts one frame before the end
            end = max(seg.start, duration - (1.0 / fps if fps else 0.0))
        self.end = math.inf if end is None else end
        self.start = seg.start
        self.listed: deque[float] | None = None
        if ctx.options.get("frames") and math.isfinite(self.end):
            self.listed = deque(np.linspace(seg.start, self.end, num=int(ctx.options["frames"])).tolist())
        self.step = 1.0 / (ctx.options.get("fps") or DEFAULT_FPS)
        self.next = seg.start

    @property
    def done(self) -> bool:
        return not self.listed if self.listed is not None else self.next > self.end + EPS

    def due(self, t: float) -> bool:
        """Whether the frame at t is taken (it consumes every wanted time up to t)."""
        if self.listed is not None:
            if not self.listed or self.listed[0] > t + EPS:
                return False
            while self.listed and self.listed[0] <= t + EPS:
                self.listed.popleft()
            return True
        if self.next > t + EPS or self.next > self.end + EPS:
            return False
        self.next = self.start + (math.floor((t - self.start) / self.step + EPS) + 1) * self.step
        return True


def _face_sample(frame: np.ndarray, ctx: ImportContext, *, rel: str, media_sha: str, index: int,
                 seconds: float | None, seg: Segment, subject: str) -> PendingSample | None:
    """The most confident face of the frame (the speaker) as a sample carrying the segment's labels."""
    faces = detect_faces(frame, ctx)
    if not faces:
        return None
    face = faces[0].face
    sha, crop_rel = ctx.blobs.put_crop_array(faces[0].crop)
    feats: dict[str, Any] = {}
    if face.landmarks is not None:
        feats["mesh468"] = (_mesh_names(len(face.landmarks)), face.landmarks.astype(np.float32).ravel().tolist())
    return PendingSample(crop_sha256=sha, crop_path=crop_rel, source_path=rel, subject=subject, split=seg.split,
                         quality=None if face.quality is None else float(face.quality),
                         bbox=[float(v) for v in face.bbox], keypoints=np.asarray(face.keypoints).round(2).tolist(),
                         media_sha256=media_sha, frame_index=index, timestamp=seconds, features=feats,
                         **seg.labels)


def segment_samples(video: Path, segments: list[Segment], ctx: ImportContext, *, subject: str
                    ) -> Iterator[PendingSample | RowError]:
    """Decode `video` once; each segment's sampled frames give one sample each (the top face).

    A segment without a face in any sampled frame is skipped (counted); one that starts after
    the video's end is an error on its label row; a damaged video is an error on the video, its
    samples before the damage flagged (imported with --skip-invalid).
    """
    rel = ctx.rel(video)
    reader = open_video(video, rel)
    if isinstance(reader, RowError):
        yield reader
        return
    got: dict[int, list[PendingSample]] = {i: [] for i in range(len(segments))}
    last = 0.0
    with reader:
        info = reader.info
        media_sha = _store_media(ctx, video, "video", width=info.width, height=info.height, fps=info.fps, frames=0)
        todo = [(i, s, _Times(s, ctx, info.declared_seconds, info.fps)) for i, s in enumerate(segments)]
        frames = reader.frames()
        try:
            for frame in frames:
                t = frame.seconds if frame.seconds is not None else frame.index / (info.fps or 30.0)
                last = t
                for i, seg, times in todo:
                    if times.due(t) and (seg.end is None or t <= seg.end + EPS):
                        sample = _face_sample(frame.image, ctx, rel=rel, media_sha=media_sha, index=frame.index,
                                              seconds=t, seg=seg, subject=subject)
                        if sample is not None:
                            got[i].append(sample)
                if all(times.done or t > times.end for _, _, times in todo):
                    break
        finally:
            frames.close()
        ctx.media[-1]["frames"] = reader.decoded
    for i, seg in enumerate(segments):
        if seg.start > last + EPS and not got[i]:
            yield RowError(seg.file, seg.line, "start", f"the segment starts at {seg.start:g} s, after the "
                           f"last frame of {rel} ({last:.2f} s)")
        elif not got[i]:
            ctx.skip("segment without a visible face")
        if reader.damage:
            for p in got[i]:
                p.flag = f"from a damaged video ({reader.damage})"[:200]
        yield from got[i]
    if reader.damage:
        yield RowError(rel, None, "video", f"damaged video: {reader.damage}")
    elif ctx.options.get("clip_frames"):  # the segments with a face as clip samples too
        yield from _segment_clips(video, [seg for i, seg in enumerate(segments) if got[i]], ctx,
                                  rel=rel, media_sha=media_sha, subject=subject)


def _segment_clips(video: Path, segments: list[Segment], ctx: ImportContext, *, rel: str, media_sha: str,
                   subject: str) -> Iterator[PendingSample | RowError]:
    """One clip sample per segment (options clip_frames slots; core.ingest.clip_build), 8 segments
    per decoding pass; an error names the segment's label row."""
    rule = clip_rule(ctx, frames_option=False)
    for n in range(0, len(segments), 8):
        part = segments[n:n + 8]
        for item in build_clips(video, [(s.start, s.end) for s in part], ctx, rule=rule,
                                labels=[s.labels for s in part], subject=subject, split=[s.split for s in part],
                                source=rel, media={str(video): media_sha}, where=[(s.file, s.line) for s in part]):
            if item is not None:
                yield item


def videos_samples(items: Iterable[tuple[Path | None, str, list[Segment]]], ctx: ImportContext, *, missing: str
                   ) -> Generator[PendingSample | RowError, None, int]:
    """segment_samples of each (video, subject, segments); the segments of a video not present (None)
    are skipped, counted as `missing`. Returns how many videos were present."""
    present = 0
    for video, subject, segments in items:
        ctx.advance(len(segments))
        if video is None:
            for _ in segments:
                ctx.skip(missing)
            continue
        present += 1
        yield from segment_samples(video, segments, ctx, subject=subject)
    return present
