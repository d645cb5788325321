"""What importers produce: one pending sample per good row, one RowError per bad row."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.text import safe_terminal


@dataclass
class RowError:
    file: str
    line: int | None  # 1-based line / frame number, None for whole-file errors
    field: str | None
    reason: str

    def __str__(self) -> str:
        """One line whatever the file name holds (control characters escaped, see core.text)."""
        where = self.file + (f":{self.line}" if self.line is not None else "")
        return safe_terminal(f"{where}: {self.field + ': ' if self.field else ''}{self.reason}")

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass
class PendingSample:
    crop_sha256: str
    crop_path: str  # relative to the data dir
    source_path: str
    emotion: str | None = None
    valence: float | None = None
    arousal: float | None = None
    stress: float | None = None
    emotions: list[str] | None = None  # multi-label set (core.label_schema), [] = none of the classes
    distribution: dict[str, float] | None = None  # class -> probability, {} = no emotion
    dominance: float | None = None  # in [-1, 1]
    targets: dict[str, float] | None = None  # named continuous targets, e.g. {"openness": 0.6}
    raw: dict[str, Any] | None = None  # original label values and scale
    subject: str | None = None
    split: str | None = None
    flag: str | None = None
    quality: float | None = None
    bbox: list[float] | None = None
    keypoints: list[list[float]] | None = None
    media_sha256: str | None = None
    frame_index: int | None = None
    timestamp: float | None = None
    features: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict)
    clip: dict[str, Any] | None = None  # a clip sample: core.store.clips.CLIP_FIELDS (media by media_sha256)

    @property
    def has_label(self) -> bool:
        return any(v is not None for v in (self.emotion, self.valence, self.arousal, self.stress,
                                           self.emotions, self.distribution, self.dominance, self.targets))


@dataclass
class ImportReport:
    dataset: str
    kind: str
    path: str
    rows: int = 0
    added: int = 0
    existing: int = 0  # already in the dataset (same crop content)
    relabelled: int = 0  # existing samples whose imported label changed
    flagged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # kept out on purpose, by reason
    warnings: list[str] = field(default_factory=list)  # imported, but worth a look (e.g. not crops)
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def invalid_rows(self) -> int:
        """Distinct bad rows (a row with two bad fields has two errors but counts once)."""
        return len({(e.file, e.line if e.line is not None else id(e)) for e in self.errors})

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "kind": self.kind, "path": self.path, "rows": self.rows,
                "added": self.added, "existing": self.existing, "relabelled": self.relabelled,
                "flagged": self.flagged, "skipped": self.skipped, "warnings": self.warnings,
                "invalid": self.invalid_rows,
                "errors": [e.to_dict() for e in self.errors], "seconds": round(self.seconds, 3)}


class ImportFailed(RuntimeError):
    """All-or-nothing import refused: nothing was stored. Lists every bad row."""

    def __init__(self, report: ImportReport):
        self.report = report
        lines = "\n".join(f"  {e}" for e in report.errors[:200])
        more = f"\n  ... and {len(report.errors) - 200} more" if len(report.errors) > 200 else ""
        super().__init__(f"{report.invalid_rows} invalid row(s) ({len(report.errors)} error(s)) in "
                         f"{safe_terminal(report.path)}; nothing was "
                         f"imported (use --skip-invalid to import the valid rows):\n{lines}{more}")
