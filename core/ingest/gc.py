"""Deleting crop/media files safely: only files no committed row references, checked while
every writer is locked out (blob lock exclusive + the store's write transaction)."""
from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.ingest.blob_lock import exclusive
from core.store.db import write_session
from core.store.models import Media, Sample
from core.store.models_clips import Clip

KINDS = ("crops", "media", "clip_crops", "clip_embeddings", "clip_audio")
KEYS_DIR = "keys"  # clip_embeddings/keys/..: which array a clip + settings produced (core.clips.arrays)
IN_CHUNK = 5000
TEMP_SUFFIX = ".tmp"


class GcBusy(RuntimeError):
    """An import or capture holds the crop store; gc deletes nothing then."""


def _rel(path: Path, data_dir: Path) -> str:
    return path.relative_to(data_dir).as_posix()


def _array_refs(session: Session) -> set[str]:
    """Every clip array file (embeddings of each version, audio image) a clip row names."""
    found: set[str] = set()
    for (arrays,) in session.execute(select(Clip.arrays).where(Clip.arrays.is_not(None))):
        arrays = arrays or {}
        found.update(v.get("rel") for v in (arrays.get("embeddings") or {}).values() if isinstance(v, dict))
        if isinstance(arrays.get("audio"), dict):
            found.add(arrays["audio"].get("rel"))
    found.discard(None)
    return found


def referenced(session: Session, rels: Iterable[str]) -> set[str]:
    """Which of these data-dir relative paths a sample (crop), media, clip (crop stack) or clip
    array (embeddings, audio image) row names."""
    rels = list(rels)
    used: set[str] = set(rels) & _array_refs(session)
    for i in range(0, len(rels), IN_CHUNK):
        chunk = rels[i:i + IN_CHUNK]
        used.update(session.scalars(select(Sample.crop_path).where(Sample.crop_path.in_(chunk))))
        used.update(session.scalars(select(Media.path).where(Media.path.in_(chunk))))
        used.update(session.scalars(select(Clip.crops_path).where(Clip.crops_path.in_(chunk))))
    return used


def discard_unreferenced(paths: Iterable[Path], *, db_url: str | None = None) -> list[Path]:
    """Delete those of `paths` (files one writer created) that no committed row references.

    Nothing is deleted while another writer holds the blob lock or when the store cannot be
    read: those files are returned, left for `gc`.
    """
    data_dir = get_settings().data_dir
    paths = [p for p in paths if p.exists()]
    if not paths:
        return []
    try:
        with exclusive(data_dir) as free:
            if not free:
                return paths
            with write_session(db_url) as s, s.begin():  # no commit can add a reference meanwhile
                used = referenced(s, [_rel(p, data_dir) for p in paths])
                for p in paths:
                    if _rel(p, data_dir) not in used:
                        p.unlink(missing_ok=True)
                return [p for p in paths if _rel(p, data_dir) in used]
    except Exception:  # noqa: BLE001 - no lock or no store: no proof a file is unused, keep them for gc
        return [p for p in paths if p.exists()]


def _stored_files(data_dir: Path) -> list[Path]:
    out = []
    for kind in KINDS:
        folder = data_dir / kind
        if folder.is_dir():
            out += [p for p in folder.rglob("*") if (p.is_file() or p.is_symlink())
                    and p.relative_to(folder).parts[0] != KEYS_DIR]
    return sorted(out)


def _stale_keys(data_dir: Path, gone: set[str]) -> list[Path]:
    """Resume records (core.clips.arrays) whose array file is gone: a rerun would recompute anyway."""
    import json

    out = []
    for kind in ("clip_embeddings", "clip_audio"):
        for p in (data_dir / kind / KEYS_DIR).rglob("*.json") if (data_dir / kind / KEYS_DIR).is_dir() else ():
            try:
                rel = json.loads(p.read_text()).get("rel")
            except (OSError, ValueError, AttributeError):
                rel = None
            if not rel or rel in gone or not (data_dir / rel).is_file():
                out.append(p)
    return out


def collect_garbage(*, dry_run: bool = False, wait_s: float = 0.0,
                    db_url: str | None = None) -> dict[str, Any]:
    """Remove crop/media/clip files no row references, temp files of writers that died, resume
    records of arrays that are gone, and upload folders of analyses past their keep time
    (core.analyse_job.expired_uploads); `dry_run` only reports. Raises GcBusy while an import or
    capture is running."""
    from core.analyse_job import expired_uploads

    started = time.perf_counter()
    data_dir = get_settings().data_dir
    with exclusive(data_dir, wait_s=wait_s) as free:
        if not free:
            raise GcBusy(f"an import or capture is writing to {data_dir}; run gc when it has ended")
        with write_session(db_url) as s, s.begin():
            files = _stored_files(data_dir)
            used = referenced(s, [_rel(p, data_dir) for p in files if not p.name.endswith(TEMP_SUFFIX)])
            doomed = [p for p in files if _rel(p, data_dir) not in used]
            counts = {kind: 0 for kind in KINDS} | {"temp": 0, "keys": 0, "uploads": 0}
            size = 0
            for p in doomed:
                counts["temp" if p.name.endswith(TEMP_SUFFIX) else _rel(p, data_dir).split("/")[0]] += 1
                size += p.lstat().st_size
                if not dry_run:
                    p.unlink(missing_ok=True)
            gone = {_rel(p, data_dir) for p in doomed}
            for p in _stale_keys(data_dir, gone):
                counts["keys"] += 1
                if not dry_run:
                    p.unlink(missing_ok=True)
            for folder in expired_uploads(s):
                counts["uploads"] += 1
                size += sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file())
                if not dry_run:
                    shutil.rmtree(folder, ignore_errors=True)
    return {"data_dir": str(data_dir), "dry_run": dry_run, "checked": len(files),
            "kept": len(files) - len(doomed), "removed" if not dry_run else "would_remove": counts,
            "bytes": size, "files": [_rel(p, data_dir) for p in doomed[:50]],
            "seconds": round(time.perf_counter() - started, 3)}
