"""Reading delimited text safely: BOM, delimiter sniffing, header checks, per-cell value parsing."""
from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from core.ingest.records import RowError
from core.rules import normalise, to_unit
from core.taxonomy import LabelError, Taxonomy

csv.field_size_limit(10_000_000)
MISSING = {"", "na", "n/a", "none", "null"}


class TableError(ValueError):
    """A whole-file problem: unreadable, no header, missing or duplicated columns."""


def open_table(path: Path, *, required: list[str], strip_headers: bool = True
               ) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a CSV/TSV (delimiter sniffed) or a Parquet file."""
    if path.suffix.lower() == ".parquet":
        return _open_parquet(path, required)
    try:
        fh = path.open("r", encoding="utf-8-sig", newline="")
        sample = fh.read(64 * 1024)
    except UnicodeDecodeError:
        raise TableError(f"{path.name}: not UTF-8 text") from None
    except OSError as exc:
        raise TableError(f"{path.name}: cannot read ({exc.strerror})") from None
    if not sample.strip():
        fh.close()
        raise TableError(f"{path.name}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    fh.seek(0)
    # the sniffer cannot see quoting in a header line: read "" inside quotes as one quote (RFC 4180)
    reader = csv.reader(fh, dialect, doublequote=True)
    try:
        header = [h.strip() if strip_headers else h for h in next(reader)]
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise TableError(f"{path.name}: unreadable header ({exc})") from None
    dupes = sorted(h for h, n in Counter(header).items() if n > 1)  # linear: 1M columns take ~0.1 s
    if dupes:
        fh.close()
        raise TableError(f"{path.name}: duplicated column(s) {', '.join(dupes)}")
    missing = [c for c in required if c not in header]
    if missing:
        fh.close()
        raise TableError(f"{path.name}: missing column(s) {', '.join(missing)} "
                         f"(found: {_names(header)})")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with fh:
            try:
                for cells in reader:
                    line = reader.line_num
                    if not any(c.strip() for c in cells):
                        continue
                    if len(cells) != len(header):
                        yield line, {"__error__": f"has {len(cells)} cells, the header has {len(header)}"}
                        continue
                    yield line, dict(zip(header, cells))
            except UnicodeDecodeError:  # past the first 64 KiB that open_table checked
                yield reader.line_num + 1, {"__error__": "not UTF-8 text from about here on; the rest "
                                                         "of the file was not read"}
            except csv.Error as exc:
                yield reader.line_num, {"__error__": f"unreadable CSV ({exc}); the rest of the file "
                                                     "was not read"}

    return header, rows()


def _open_parquet(path: Path, required: list[str]):
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types
        raise TableError(f"{path.name}: not a readable Parquet file ({exc})") from None
    header = [str(c) for c in frame.columns]
    missing = [c for c in required if c not in header]
    if missing:
        raise TableError(f"{path.name}: missing column(s) {', '.join(missing)} (found: {_names(header)})")
    integral = {h for h, col in zip(header, frame.columns) if _integral_floats(frame[col])}

    def rows():
        for i, rec in enumerate(frame.itertuples(index=False), start=2):
            yield i, {h: "" if pd.isna(v) else str(int(v)) if h in integral else str(v)
                      for h, v in zip(header, rec)}

    return header, rows()


def _integral_floats(column) -> bool:
    """A float column whose values are all whole numbers: an integer column with a missing value
    (Parquet/pandas store those as floats), read as the integers it holds (1.0 -> "1")."""
    import numpy as np

    if column.dtype.kind != "f":
        return False
    values = column.to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53))


def _names(header: list[str], limit: int = 20) -> str:
    """The first column names for an error message (a header may have a million)."""
    more = f" ... and {len(header) - limit} more" if len(header) > limit else ""
    return ", ".join(header[:limit]) + more


def table_rows(path: Path, *, required: list[str], file: str | None = None
               ) -> Iterator[tuple[int, dict[str, str]] | RowError]:
    """(line, row) pairs of a table, with a RowError for the whole file or a malformed row."""
    file = file or path.name
    try:
        _, rows = open_table(path, required=required)
    except TableError as exc:
        yield RowError(file, None, None, str(exc))
        return
    for line, row in rows:
        if "__error__" in row:
            yield RowError(file, line, None, row["__error__"])
        else:
            yield line, row


def is_missing(cell: str | None) -> bool:
    return cell is None or cell.strip().lower() in MISSING


def parse_float(cell: str, field: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise LabelError(f"{field} {cell!r} is not a number") from None
    if not math.isfinite(value):
        raise LabelError(f"{field} is {cell.strip()}, not a finite number")
    return value


def parse_labels(row: dict[str, str], taxonomy: Taxonomy, *, va_scale: str, stress_scale: str,
                 file: str, line: int) -> tuple[dict, dict, list[RowError]]:
    """Emotion, V/A (normalised to [-1,1]) and stress ([0,1]) of a row, the raw values, and errors."""
    values: dict = {}
    raw: dict = {}
    errors: list[RowError] = []
    if not is_missing(row.get("emotion")):
        try:
            values["emotion"] = taxonomy.parse(row["emotion"])
            raw["emotion"] = row["emotion"].strip()
        except LabelError as exc:
            errors.append(RowError(file, line, "emotion", str(exc)))
    for name, scale in (("valence", va_scale), ("arousal", va_scale), ("stress", stress_scale)):
        cell = row.get(name)
        if is_missing(cell):
            continue
        try:
            v = parse_float(cell, name)
            values[name] = (to_unit(v, scale, what=name) if name == "stress"
                            else normalise(v, scale, what=name))
            raw[name] = v
        except LabelError as exc:
            errors.append(RowError(file, line, name, str(exc)))
    if raw:
        raw["scale"] = {"va": va_scale, "stress": stress_scale}
    return values, raw, errors
