"""Reading an export's richer label columns back: emotions, distribution, dominance, target:<name>.

core.export writes them (JSON cells for the set and the distribution) with the dataset's label
schema in `<file stem>.schema.json`; the `csv` importer reads both, so export -> import is
lossless in every emotion mode.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from core.ingest.records import RowError
from core.ingest.tables import is_missing, parse_float
from core.label_schema import LabelSchema
from core.rules import normalise
from core.store.current import TARGET_PREFIX
from core.taxonomy import LabelError


def schema_path(table: Path) -> Path:
    """Where an exported table's label schema lies: `<file stem>.schema.json` beside it."""
    return table.with_name(f"{table.stem}.schema.json")


def read_table_schema(table: Path) -> LabelSchema | None:
    """The label schema written beside an exported table; None when there is none."""
    path = schema_path(table)
    if table.is_dir() or not path.is_file():
        return None
    return read_schema_file(path)


def read_schema_file(path: Path) -> LabelSchema:
    """A label schema from a JSON file (LabelSchema.to_dict's form); a ValueError naming the
    file when it is unreadable or no valid schema."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise LabelError("the file holds no JSON object")
        return LabelSchema.from_dict(data)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, LabelError, KeyError, TypeError,
            ValueError) as exc:
        raise ValueError(f"{path.name}: not a label schema ({exc})") from None


def _json_cell(cell: str, field: str, kind: type) -> Any:
    def no_constants(name: str) -> None:
        raise LabelError(f"{field} holds {name}, not a number")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if dup := next((k for k in keys if keys.count(k) > 1), None):
            raise LabelError(f"{field} names {dup!r} twice")
        return dict(pairs)

    try:
        value = json.loads(cell, parse_constant=no_constants, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise LabelError(f"{field} {cell[:60]!r} is not JSON ({exc.msg})") from None
    if not isinstance(value, kind):
        raise LabelError(f"{field} must be a JSON {'list' if kind is list else 'object'}, not {cell[:60]!r}")
    return value


def _parse_distribution(cell: str, schema: LabelSchema) -> dict[str, float]:
    pairs = _json_cell(cell, "distribution", dict)
    if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in pairs.values()):
        raise LabelError(f"distribution {cell[:60]!r} holds a value that is not a finite number")
    return schema.check_distribution(pairs)


def _need(schema: LabelSchema, field: str, ok: bool, what: str) -> None:
    if not ok:
        raise LabelError(f"the dataset's label schema has no {what} (column {field!r})")


def parse_rich_labels(row: dict[str, str], schema: LabelSchema, *, va_scale: str, file: str,
                      line: int) -> tuple[dict[str, Any], dict[str, Any], list[RowError]]:
    """The richer label values of a row (only the columns it has), their raw cells, and errors."""
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    errors: list[RowError] = []
    targets: dict[str, float] = {}
    for col, cell in row.items():
        if col not in ("emotions", "distribution", "dominance") and not col.startswith(TARGET_PREFIX):
            continue
        if is_missing(cell):
            continue
        try:
            if col == "emotions":
                _need(schema, col, schema.emotion_mode == "multi", "multi-label emotions")
                values["emotions"] = schema.check_emotions(_json_cell(cell, col, list))
            elif col == "distribution":
                _need(schema, col, schema.emotion_mode == "distribution", "emotion distribution")
                values["distribution"] = _parse_distribution(cell, schema)
            elif col == "dominance":
                _need(schema, col, schema.dominance, "dominance")
                values["dominance"] = normalise(parse_float(cell, col), va_scale, what=col)
                raw[col] = float(cell)
            else:
                name = col[len(TARGET_PREFIX):]
                targets[schema.target(name).name] = schema.target(name).check(parse_float(cell, name))
        except LabelError as exc:
            errors.append(RowError(file, line, col, str(exc)))
    if targets:
        values["targets"] = targets
    return values, raw, errors
