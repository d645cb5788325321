"""Videos (sampled frames) and loose images: detect every face, align, store crops with their source."""
from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core.faces.io import IMAGE_EXTS, ImageError, decode_image
from core.ingest.context import ImportContext
from core.ingest.files import files_under
from core.ingest.records import PendingSample, RowError
from core.taxonomy import LabelError
from core.video import DEFAULT_FPS, VIDEO_EXTS, VideoError, VideoReader

MAX_MEDIA_BYTES = 2 * 1024**3


_PIPELINES: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _pipeline(ctx: ImportContext) -> Any:
    """The face pipeline of this import, shared per process (loading models costs ~50 ms each).

    detector "short" suits selfies, webcam frames and face-filling photos, "full" small faces in
    group photos; "both" runs the two and keeps each face once (core.faces.detect), as predict
    does on stills. Every crop is the canonical one (core.faces.crop.CANONICAL_SIZE).
    """
    key = (ctx.options.get("detector") or "short", bool(ctx.options.get("landmarks", True)),
           float(ctx.options.get("min_score", 0.5)))
    with _LOCK:
        if key not in _PIPELINES:
            from core.faces import FacePipeline

            _PIPELINES[key] = FacePipeline(model=key[0], with_landmarks=key[1], min_score=key[2])
        return _PIPELINES[key]


def detect_faces(frame: np.ndarray, ctx: ImportContext) -> list:
    """Every face of the frame with its canonical aligned crop."""
    return _pipeline(ctx).process(frame)


def _emotion_of_folder(file: Path, ctx: ImportContext) -> str | None:
    """The emotion named by the file's folder, below the import root (ROOT/Happy/clip.mp4)."""
    if file.parent == ctx.root:
        return None
    try:
        return ctx.taxonomy.parse(file.parent.name)
    except LabelError:
        return None


def _faces_to_samples(frame: np.ndarray, ctx: ImportContext, *, rel: str, media_sha: str,
                      frame_index: int | None, timestamp: float | None, emotion: str | None,
                      subject: str | None) -> list[PendingSample]:
    out = []
    for fc in detect_faces(frame, ctx):
        sha, crop_rel = ctx.blobs.put_crop_array(fc.crop)
        face = fc.face
        feats: dict[str, Any] = {}
        if face.landmarks is not None:
            feats["mesh468"] = (_mesh_names(len(face.landmarks)),
                                face.landmarks.astype(np.float32).ravel().tolist())
        out.append(PendingSample(
            crop_sha256=sha, crop_path=crop_rel, source_path=rel, emotion=emotion,
            raw={"emotion": "folder"} if emotion else None, subject=subject,
            quality=None if face.quality is None else float(face.quality),
            bbox=[float(v) for v in face.bbox], keypoints=np.asarray(face.keypoints).round(2).tolist(),
            media_sha256=media_sha, frame_index=frame_index, timestamp=timestamp, features=feats))
    return out


@functools.lru_cache(maxsize=4)
def _mesh_names(points: int) -> list[str]:
    """Feature column names of a mesh: x0, y0, z0, x1, ... (built once, not per face)."""
    return [f"{a}{i}" for i in range(points) for a in "xyz"]


def _files(path: Path, exts: set[str], ctx: ImportContext, field: str) -> tuple[list[Path], list[RowError]]:
    """The files to import and one error per symbolic link leading out of the folder."""
    files, refused = files_under(path, exts)
    return files, [RowError(ctx.rel(p), None, field, reason) for p, reason in refused]


def _store_media(ctx: ImportContext, file: Path, kind: str, **meta: Any) -> str:
    data = file.read_bytes()
    sha, rel = ctx.blobs.put("media", data, file.suffix)
    ctx.media.append({"sha256": sha, "path": rel, "original_name": file.name, "kind": kind, **meta})
    return sha


def parse_images(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    if not ctx.options.get("detector"):
        ctx.options["detector"] = "both"  # photos: selfies and group photos alike
    ctx.root = path if path.is_dir() else path.parent
    files, refused = _files(path, IMAGE_EXTS, ctx, "image")
    yield from refused
    ctx.total = len(files)
    for file in files:
        ctx.advance()
        rel = ctx.rel(file)
        try:
            if file.stat().st_size > MAX_MEDIA_BYTES:
                raise ImageError(f"{rel}: file is larger than {MAX_MEDIA_BYTES >> 20} MiB")
            frame = decode_image(file.read_bytes(), name=rel)
        except (ImageError, OSError) as exc:
            yield RowError(rel, None, "image", str(exc))
            continue
        sha = _store_media(ctx, file, "image", width=frame.shape[1], height=frame.shape[0])
        samples = _faces_to_samples(frame, ctx, rel=rel, media_sha=sha, frame_index=None,
                                    timestamp=None, emotion=_emotion_of_folder(file, ctx),
                                    subject=ctx.options.get("subject"))
        if not samples:
            if ctx.options.get("allow_no_face", path.is_dir()):
                ctx.skip("image without a face")
            else:
                yield RowError(rel, None, "image", "no face found")
        yield from samples


def _video_samples(reader: VideoReader, file: Path, rel: str, ctx: ImportContext, media_sha: str
                   ) -> Iterator[PendingSample]:
    emotion = _emotion_of_folder(file, ctx)
    subject = ctx.options.get("subject") or file.stem
    for frame in reader.sample(fps=ctx.options.get("fps") or DEFAULT_FPS, frames=ctx.options.get("frames")):
        ctx.advance()
        yield from _faces_to_samples(frame.image, ctx, rel=rel, media_sha=media_sha,
                                     frame_index=frame.index, timestamp=frame.seconds, emotion=emotion,
                                     subject=subject)


def open_video(file: Path, rel: str) -> VideoReader | RowError:
    """A reader of the video, or the error (too large, unreadable, no video stream) on its file."""
    try:
        if file.stat().st_size > MAX_MEDIA_BYTES:
            raise VideoError(f"file is larger than {MAX_MEDIA_BYTES >> 20} MiB")
        return VideoReader(file)
    except (VideoError, OSError) as exc:
        return RowError(rel, None, "video", str(exc).removeprefix(f"{file}: "))


def parse_video(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """Faces of sampled frames (core.video reads them; nothing trusts the container's counts).
    A damaged video (corrupt or truncated stream) is an error; with --skip-invalid its samples
    before the damage are imported and flagged."""
    ctx.root = path if path.is_dir() else path.parent
    files, refused = _files(path, VIDEO_EXTS, ctx, "video")
    yield from refused
    for file in files:
        rel = ctx.rel(file)
        reader = open_video(file, rel)
        if isinstance(reader, RowError):
            yield reader
            continue
        with reader:
            info = reader.info
            if ctx.options.get("frames"):
                ctx.total = (ctx.total or 0) + int(ctx.options["frames"])
            elif info.declared_seconds:  # a progress estimate only, never an allocation
                ctx.total = (ctx.total or 0) + int(info.declared_seconds * (ctx.options.get("fps") or DEFAULT_FPS)) + 1
            sha = _store_media(ctx, file, "video", width=info.width, height=info.height, fps=info.fps,
                               frames=0)
            samples = list(_video_samples(reader, file, rel, ctx, sha))
            ctx.media[-1]["frames"] = reader.decoded  # counted, not declared
        if reader.damage:
            yield RowError(rel, None, "video", f"damaged video: {reader.damage}"
                           + (f"; {len(samples)} face(s) before the damage" if samples else ""))
            for p in samples:
                p.flag = f"from a damaged video ({reader.damage})"[:200]
            yield from samples
        elif not samples:
            yield RowError(rel, None, "video", f"no face found in the sampled frames ({reader.decoded} decoded)")
        else:
            yield from samples
