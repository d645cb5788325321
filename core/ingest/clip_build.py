"""One labelled clip of a video -> one clip sample: N sampled frames (core.clips.sampling), the
largest persistent face track with masked slots (core.clips.track), the stacked aligned crops
stored as one content-addressed .npy, a representative crop as the sample's image, and whether
the clip has audio. The sample's crop hash is the clip's identity (clip_identity), so a clip never
merges with a frame sample nor with another file's clip."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from core.clips.sampling import SamplingRule, sample_spans
from core.clips.track import ClipFaces, track_faces
from core.ingest.context import ImportContext
from core.ingest.media_import import MAX_MEDIA_BYTES, _pipeline, _store_media
from core.ingest.records import PendingSample, RowError
from core.video import VideoError, VideoInfo, VideoReader

DEFAULT_FRAMES = 16
CLIP_KIND = "clip_crops"  # data_dir/clip_crops/ab/<sha>.npy
NO_FACE = "clip without a visible face"


def clip_rule(ctx: ImportContext, *, frames_option: bool = True) -> SamplingRule:
    """The import's sampling rule: options clip_frames (else frames, when frames_option: the clip
    kinds) evenly spaced frames, default 16; or options clip_fps frames per second."""
    n = ctx.options.get("clip_frames") or (ctx.options.get("frames") if frames_option else None)
    if ctx.options.get("clip_fps"):
        return SamplingRule.at_fps(float(ctx.options["clip_fps"]), n)
    return SamplingRule.even(int(n or DEFAULT_FRAMES))


def has_audio(path: Path, start: float, end: float | None) -> bool:
    """Whether [start, end] of the media holds decodable audio samples."""
    from core.audio import decode_audio

    try:
        samples, _ = decode_audio(path, start=start, end=end)
    except Exception:  # noqa: BLE001 - an unreadable audio track is "no audio", never an error
        return False
    return samples is not None


def _representative(faces: ClipFaces) -> int:
    """The slot whose crop shows the clip: the best-quality tracked face nearest the middle."""
    slots = np.flatnonzero(faces.mask)
    quality = np.nan_to_num(faces.quality[slots], nan=0.0)
    mid = (len(faces.mask) - 1) / 2
    return int(slots[np.lexsort((np.abs(slots - mid), -np.round(quality, 2)))[0]])


def _media(ctx: ImportContext, video: Path, info: VideoInfo, media: dict[str, str]) -> str:
    """The media row of the video, stored once per import (media: path -> sha)."""
    key = str(video)
    if key not in media:
        media[key] = _store_media(ctx, video, "video", width=info.width, height=info.height, fps=info.fps,
                                  frames=None)
    return media[key]


def video_info(video: Path, rel: str) -> VideoInfo | RowError:
    """The video's stream facts, or a located error (too large, unreadable, no video stream)."""
    try:
        if video.stat().st_size > MAX_MEDIA_BYTES:
            raise VideoError(f"file is larger than {MAX_MEDIA_BYTES >> 20} MiB")
        with VideoReader(video) as reader:
            return reader.info
    except (VideoError, OSError) as exc:
        return RowError(rel, None, "video", str(exc).removeprefix(f"{video}: "))


def build_clips(video: Path, spans: list[tuple[float, float | None]], ctx: ImportContext, *,
                rule: SamplingRule, labels: list[dict[str, Any]], subject: str | None,
                split: list[str | None] | str | None = None, source: str | None = None,
                media: dict[str, str] | None = None, where: list[tuple[str, int | None]] | None = None
                ) -> list[PendingSample | RowError | None]:
    """One clip sample per span of one video (one decoding pass), or a located error per span
    (where: the (file, line) naming the span; default the video itself); None = no face in it
    (counted as skipped). labels[i]: PendingSample label fields of span i."""
    rel = source or ctx.rel(video)
    where = where or [(rel, None)] * len(spans)
    info = video_info(video, rel)
    if isinstance(info, RowError):
        return [RowError(f, line, "video", info.reason) for f, line in where]
    try:
        sampled = sample_spans(video, rule, spans)
    except (VideoError, ValueError, OSError) as exc:
        return [RowError(f, line, "video", str(exc).removeprefix(f"{video}: ")) for f, line in where]
    media_sha = _media(ctx, video, info, media if media is not None else {})
    splits = split if isinstance(split, list) else [split] * len(spans)
    out: list[PendingSample | RowError | None] = []
    for i, clip in enumerate(sampled):
        f, line = where[i]
        if isinstance(clip, Exception):
            out.append(RowError(f, line, "start", str(clip).removeprefix(f"{video}: ")))
            continue
        faces = track_faces(clip, _pipeline(ctx))
        if not faces.mask.any():
            ctx.skip(NO_FACE)
            out.append(None)
            continue
        out.append(_clip_sample(ctx, faces, rel=rel, media_sha=media_sha, labels=labels[i], subject=subject,
                                split=splits[i], audio=has_audio(video, clip.start, clip.end)))
        if clip.damage:
            out[-1].flag = f"from a damaged video ({clip.damage})"[:200]
    return out


def clip_identity(media_sha: str, start: float, end: float, rule: dict[str, Any], stack_sha: str) -> str:
    """A clip sample's identity (its samples.crop_sha256): the media's content, the time range, the
    rule and the crop stack, so two files showing the same frames (RAVDESS' AV and video-only copies
    of one take) stay two clips, and a re-import of the same clip finds it."""
    text = json.dumps([media_sha, round(start, 6), round(end, 6), rule, stack_sha], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _clip_sample(ctx: ImportContext, faces: ClipFaces, *, rel: str, media_sha: str, labels: dict[str, Any],
                 subject: str | None, split: str | None, audio: bool) -> PendingSample:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(faces.crops), allow_pickle=False)
    stack_sha, stack_rel = ctx.blobs.put(CLIP_KIND, buf.getvalue(), ".npy")
    slot = _representative(faces)
    _, crop_rel = ctx.blobs.put_crop_array(faces.crops[slot])
    clip = faces.sampled
    quality = faces.quality[slot]
    return PendingSample(
        crop_sha256=clip_identity(media_sha, clip.start, clip.end, clip.rule.to_dict(), stack_sha), crop_path=crop_rel, source_path=rel, subject=subject, split=split,
        quality=None if np.isnan(quality) else float(quality), bbox=[float(v) for v in faces.boxes[slot]],
        media_sha256=media_sha, frame_index=int(clip.frame_index[slot]), timestamp=float(clip.seconds[slot]),
        clip={"start": float(clip.start), "end": float(clip.end), "frames": len(faces.mask),
              "rule": clip.rule.to_dict(), "frame_indices": [int(i) for i in clip.frame_index],
              "mask": [bool(m) for m in faces.mask], "crops_sha256": stack_sha, "crops_path": stack_rel,
              "has_audio": audio},
        **labels)
