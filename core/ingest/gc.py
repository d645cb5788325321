"""Deleting crop/media files safely: only files no committed row references, checked while
every writer is locked out (blob lock exclusive + the store's write transaction)."""
from __future__ import annotations

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

KINDS = ("crops", "media", "clip_crops")
IN_CHUNK = 5000
TEMP_SUFFIX = ".tmp"


class GcBusy(RuntimeError):
    """An import or capture holds the crop store; gc deletes nothing then."""


def _rel(path: Path, data_dir: Path) -> str:
    return path.relative_to(data_dir).as_posix()


def referenced(session: Session, rels: Iterable[str]) -> set[str]:
    """Which of these data-dir relative paths a sample (crop), media or clip (crop stack) row names."""
    rels = list(rels)
    used: set[str] = set()
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
            out += [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]
    return sorted(out)


def collect_garbage(*, dry_run: bool = False, wait_s: float = 0.0,
                    db_url: str | None = None) -> dict[str, Any]:
    """Remove crop/media files no sample or media row references, and temp files of writers
    that died; `dry_run` only reports. Raises GcBusy while an import or capture is running."""
    started = time.perf_counter()
    data_dir = get_settings().data_dir
    with exclusive(data_dir, wait_s=wait_s) as free:
        if not free:
            raise GcBusy(f"an import or capture is writing to {data_dir}; run gc when it has ended")
        with write_session(db_url) as s, s.begin():
            files = _stored_files(data_dir)
            used = referenced(s, [_rel(p, data_dir) for p in files if not p.name.endswith(TEMP_SUFFIX)])
            doomed = [p for p in files if _rel(p, data_dir) not in used]
            counts = {kind: 0 for kind in KINDS} | {"temp": 0}
            size = 0
            for p in doomed:
                counts["temp" if p.name.endswith(TEMP_SUFFIX) else _rel(p, data_dir).split("/")[0]] += 1
                size += p.lstat().st_size
                if not dry_run:
                    p.unlink(missing_ok=True)
    return {"data_dir": str(data_dir), "dry_run": dry_run, "checked": len(files),
            "kept": len(files) - len(doomed), "removed" if not dry_run else "would_remove": counts,
            "bytes": size, "files": [_rel(p, data_dir) for p in doomed[:50]],
            "seconds": round(time.perf_counter() - started, 3)}
