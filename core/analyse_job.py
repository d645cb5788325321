"""Long uploaded videos analysed as a background job: saved under the data dir, run by the worker
with true progress (frames decoded of the frames in the file), stopped by a cancel, the timeline
written as a file the Upload page reads.

The page side: save_upload, video_seconds, runs_as_job, submit_analysis, analysis_state,
load_timeline, cancel_analysis. The job process side: run_analysis (the "analyse" job kind).
"""
from __future__ import annotations

import os
import secrets
import shutil
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from core.auth import AccessDenied, Identity, Role, default_identity
from core.config import get_settings
from core.jobs.status import CANCELLABLE, JobCancelled, RunStatus
from core.jobs.store import cancel_row, submit_job
from core.limits import submitter
from core.paths import confined
from core.store.db import read_session, write_session
from core.store.models import Job, utcnow
from core.timeline import frame_rows
from core.video import VIDEO_EXTS, VideoError, VideoReader

KIND = "analyse"
LONG_VIDEO_S = 30.0  # videos longer than this (AFFECTLAB_LONG_VIDEO_S) are analysed as a job
PROGRESS_EVERY_S = 0.5  # how often the job records its progress and looks for a cancel
TIMELINE_FILE = "timeline.parquet"
KEEP_TIMELINE_DAYS = 7.0  # a finished analysis' folder is kept this long (AFFECTLAB_UPLOAD_KEEP_DAYS)
ORPHAN_UPLOAD_S = 24 * 3600.0  # an upload no job names is a leftover (a request that died) after this


def _env_number(name: str, default: float, unit: str) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number of {unit}") from None


def long_video_s() -> float:
    """The length above which the Upload page hands a video to the worker."""
    return _env_number("AFFECTLAB_LONG_VIDEO_S", LONG_VIDEO_S, "seconds")


def uploads_root() -> Path:
    return get_settings().data_dir / "uploads"


def save_upload(data: bytes, *, name: str) -> Path:
    """An uploaded video written to <data dir>/uploads/<random>/video<ext> (never a name the
    visitor chose); VideoError for an extension that is not a video's."""
    ext = Path(name).suffix.lower()
    if ext not in VIDEO_EXTS:
        raise VideoError(f"{name}: not a video file (expected one of {', '.join(sorted(VIDEO_EXTS))})")
    folder = uploads_root() / secrets.token_hex(8)
    folder.mkdir(parents=True)
    path = folder / f"video{ext}"
    path.write_bytes(data)
    return path


def discard_upload(path: Path) -> None:
    """Remove an upload's folder (only ever one under the uploads root)."""
    folder = confined(path, (uploads_root(),)).parent
    if folder != uploads_root().resolve():
        shutil.rmtree(folder, ignore_errors=True)


def keep_days() -> float:
    """How long a finished analysis' folder stays before `gc` removes it."""
    return _env_number("AFFECTLAB_UPLOAD_KEEP_DAYS", KEEP_TIMELINE_DAYS, "days")


def expired_uploads(session: Any, *, now: float | None = None) -> list[Path]:
    """Upload folders `gc` may remove: those of analyses that ended more than keep_days() ago,
    and those no analysis job names that are older than ORPHAN_UPLOAD_S. A queued or running
    analysis keeps its folder whatever its age."""
    root = uploads_root()
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    by_folder: dict[str, tuple[str, Any]] = {}
    for args, status, finished in session.execute(select(Job.args, Job.status, Job.finished_at)
                                                  .where(Job.kind == KIND)):
        folder = str((args or {}).get("path") or "").split("/")[:2]
        if len(folder) == 2 and folder[0] == "uploads":
            by_folder[folder[1]] = (status, finished)
    doomed = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        status, finished = by_folder.get(folder.name, (None, None))
        if status in CANCELLABLE:  # queued or a process may be alive
            continue
        if status is None:
            age = now - max((p.lstat().st_mtime for p in [folder, *folder.iterdir()]), default=now)
            expired = age > ORPHAN_UPLOAD_S
        else:
            ended = finished.replace(tzinfo=finished.tzinfo or UTC).timestamp() if finished else 0.0
            expired = now - ended > keep_days() * 86400
        if expired:
            doomed.append(folder)
    return doomed


def video_seconds(path: Path) -> float | None:
    """The video's declared length (None when the container does not say); VideoError if unreadable."""
    with VideoReader(path) as reader:
        return reader.info.declared_seconds


def runs_as_job(seconds: float | None) -> bool:
    """Whether a video of this length is analysed by the worker (unknown length: yes)."""
    return seconds is None or seconds > long_video_s()


def submit_analysis(path: Path, *, name: str, model: str, fps: float, identity: Identity | None = None,
                    session_key: str | None = None) -> int:
    """Queue the analysis of a saved upload; its job id. Any visitor may (a viewer's right);
    LimitExceeded over the visitor's job cap (core.limits)."""
    rel = confined(path, (uploads_root(),)).relative_to(get_settings().data_dir.resolve())
    if not 0 < fps <= 30:
        raise ValueError(f"frames per second must be in (0, 30], got {fps}")
    args = {"path": rel.as_posix(), "name": str(name)[:200], "model": str(model), "fps": float(fps)}
    return submit_job(KIND, args=args, identity=identity, session_key=session_key)


def cancel_analysis(job_id: int, *, identity: Identity | None = None,
                    session_key: str | None = None) -> RunStatus | None:
    """Cancel an analysis job: by whoever submitted it, or an admin. A queued one is cancelled at
    once (its upload removed); a running one stops at its next progress check."""
    who = identity or default_identity()
    with read_session() as s:
        job = s.get(Job, job_id)
        kind, owner, args = (job.kind, job.submitted_by, dict(job.args or {})) if job else (None, None, {})
    if kind != KIND:
        return None
    if who.role < Role.ADMIN and owner != submitter(who, session_key):
        raise AccessDenied(f"job {job_id} is not yours to cancel")
    status = cancel_row(job_id, table=Job)
    if status == RunStatus.CANCELLED and args.get("path"):
        discard_upload(_upload_path(args))
    return status


def analysis_state(job_id: int) -> dict[str, Any]:
    """What the page shows of an analysis job: status, progress (0..1), frames_done, frames_total,
    analysed (frames predicted), name, error (its first line)."""
    with read_session() as s:
        job = s.get(Job, job_id)
        if job is None or job.kind != KIND:
            raise LookupError(f"no analysis job with id {job_id}")
        result, args = dict(job.result or {}), dict(job.args or {})
        out = {"status": RunStatus(job.status), "name": args.get("name", ""),
               "error": _first_line(job.error) if job.error else None}
    return {"progress": 0.0, "frames_done": 0, "frames_total": None, "analysed": 0, **result, **out}


def _first_line(error: str) -> str:
    """An error's first line for a visitor: the server's folders left out."""
    text = (error.strip().splitlines() or [""])[0][:300]
    settings = get_settings()
    for root in sorted({str(settings.data_dir), str(settings.models_dir)}, key=len, reverse=True):
        text = text.replace(root + os.sep, "")
    return text


def load_timeline(job_id: int) -> pd.DataFrame:
    """The timeline a succeeded analysis job wrote (LookupError before that)."""
    with read_session() as s:
        job = s.get(Job, job_id)
        result = dict(job.result or {}) if job is not None and job.kind == KIND else {}
    if job is None or job.status != RunStatus.SUCCEEDED or not result.get("timeline"):
        raise LookupError(f"analysis job {job_id} has no timeline (yet)")
    return pd.read_parquet(confined(result["timeline"], (uploads_root(),), base=get_settings().data_dir))


# -- the job process ----------------------------------------------------------------------------

def run_analysis(job_id: int, args: dict[str, Any]) -> dict[str, Any]:
    """The "analyse" job: the timeline of the upload in args (path, name, model, fps), progress
    recorded on the row as it goes; JobCancelled when a cancel arrives. The video is removed at
    the end, whatever the outcome; the timeline stays beside it."""
    from core.catalog import load_predictor

    path, name = _upload_path(args), str(args.get("name") or "video")
    try:
        predictor = load_predictor(args.get("model") or None)
        classes = list(predictor.config.classes)
        report = _Progress(job_id)
        rows: list[dict] = []
        with VideoReader(path) as reader:
            total = reader.count_frames()
            analysed = 0
            for frame in reader.sample(fps=float(args.get("fps") or 2.0)):
                rows += frame_rows(frame.index, frame.seconds, predictor.predict_frame(frame.image), classes)
                analysed += 1
                report(frame.index + 1, total, analysed)
            if reader.damage:
                raise VideoError(f"{name}: {reader.damage}")
        out = path.parent / TIMELINE_FILE
        pd.DataFrame(rows).to_parquet(out, index=False)
    except VideoError as exc:
        raise VideoError(str(exc).replace(str(path), name)) from None
    finally:
        path.unlink(missing_ok=True)
    data_dir = get_settings().data_dir.resolve()
    return {"timeline": out.relative_to(data_dir).as_posix(), "name": name, "progress": 1.0,
            "frames_done": total, "frames_total": total, "analysed": analysed,
            "faces": sum(1 for r in rows if r.get("face") is not None)}


def _upload_path(args: dict[str, Any]) -> Path:
    return confined(str(args.get("path") or ""), (uploads_root(),), base=get_settings().data_dir)


class _Progress:
    """Records frames done / frames total on the job row at most every PROGRESS_EVERY_S, and
    raises JobCancelled once the row says cancelling."""

    def __init__(self, job_id: int) -> None:
        self.job_id, self.last = job_id, 0.0

    def __call__(self, done: int, total: int, analysed: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        progress = min(1.0, done / total) if total else 0.0
        try:
            with write_session() as s, s.begin():
                s.execute(update(Job).where(Job.id == self.job_id).values(
                    heartbeat_at=utcnow(), result={"progress": round(progress, 4), "frames_done": done,
                                                   "frames_total": total, "analysed": analysed}))
                status = s.scalar(select(Job.status).where(Job.id == self.job_id))
        except OperationalError:  # a busy store: try again at the next frame
            self.last = 0.0
            return
        if status in (RunStatus.CANCELLING, RunStatus.CANCELLED):
            raise JobCancelled(f"analysis job {self.job_id} cancelled at frame {done} of {total}")
