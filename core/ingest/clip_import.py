"""Folders of clips labelled by their names (CREMA-D, RAVDESS) or folders (eNTERFACE'05): one clip
sample per video (N sampled frames, the tracked face, its audio flag; core.ingest.clip_build),
actor/subject id -> subject for grouped splits. A name that breaks the convention is an error on
its file, field named."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path, PurePath

from core.ingest.clip_build import build_clips, clip_rule
from core.ingest.clip_names import NameError_, NameLabel, crema_d, enterface, ravdess
from core.ingest.context import ImportContext
from core.ingest.files import files_under
from core.ingest.records import PendingSample, RowError
from core.taxonomy import LabelError
from core.video import VIDEO_EXTS

CREMA_EXTS = VIDEO_EXTS | {".flv"}  # CREMA-D's VideoFlash/*.flv


def _clip_folder(path: Path, ctx: ImportContext, exts: set[str], label_of: Callable[[Path], NameLabel]
                 ) -> Iterator[PendingSample | RowError]:
    ctx.root = path if path.is_dir() else path.parent
    files, refused = files_under(path, exts)
    yield from (RowError(ctx.rel(p), None, "video", reason) for p, reason in refused)
    if not files:
        yield RowError(str(path), None, None, f"no video ({', '.join(sorted(exts))}) found")
        return
    ctx.total = len(files)
    rule = clip_rule(ctx)
    media: dict[str, str] = {}
    for file in files:
        ctx.advance()
        rel = ctx.rel(file)
        try:
            name = label_of(file)
            emotion = ctx.taxonomy.parse(name.emotion)
        except NameError_ as exc:
            yield RowError(rel, None, exc.field, exc.reason)
            continue
        except LabelError as exc:
            yield RowError(rel, None, "emotion", str(exc))
            continue
        if name.skip:
            ctx.skip(name.skip)
            continue
        labels = {"emotion": emotion, "raw": name.raw}
        (item,) = build_clips(file, [(0.0, None)], ctx, rule=rule, labels=[labels], subject=name.subject,
                              source=rel, media=media)
        if item is not None:
            yield item


def parse_crema_d(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """CREMA-D clips: ActorID_Sentence_Emotion_Level.<mp4|flv|...> anywhere under path."""
    yield from _clip_folder(path, ctx, CREMA_EXTS, lambda f: crema_d(f.stem))


def parse_ravdess(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """RAVDESS clips: 02-01-06-01-02-01-12.mp4 anywhere under path (audio-only files skipped)."""
    yield from _clip_folder(path, ctx, VIDEO_EXTS, lambda f: ravdess(f.stem))


def parse_enterface(path: Path, ctx: ImportContext) -> Iterator[PendingSample | RowError]:
    """eNTERFACE'05: subject N/<emotion>/sentence M/**/*.avi (label and subject from the folders)."""
    root = path if path.is_dir() else path.parent
    yield from _clip_folder(path, ctx, VIDEO_EXTS, lambda f: enterface(PurePath(f.relative_to(root))))
