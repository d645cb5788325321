"""State shared by one import run: taxonomy, blob store, media found, progress."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.ingest.files import BlobStore
from core.taxonomy import Taxonomy


@dataclass
class ImportContext:
    root: Path  # the import root: paths in files must stay inside it
    taxonomy: Taxonomy
    blobs: BlobStore = field(default_factory=BlobStore)
    media: list[dict[str, Any]] = field(default_factory=list)  # Media rows to create
    options: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[int, int | None], None] | None = None  # (done, total)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count (not errors)
    warnings: list[str] = field(default_factory=list)  # for the report: imported, but worth a look
    done: int = 0
    total: int | None = None
    resolved_dirs: dict = field(default_factory=dict)  # resolve_inside's per-import folder cache

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def rel(self, path: Path) -> str:
        """A path as shown in error messages: relative to the import root where possible."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
