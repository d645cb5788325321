"""MAFW's label files (DATASETS.md section 7): `single_label.txt` lines `03747.mp4<TAB>anger<TAB>
<Chinese caption><TAB><English caption>`, `multi_label.txt` the same with compound labels joined by
`_` (anger_disgust_anxiety). Tab-separated, else split on the first two whitespace runs (captions
hold spaces). Each line becomes a MafwRow or RowErrors naming the file, line and field."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.ingest.records import RowError
from core.label_schema import LabelSchema
from core.taxonomy import LabelError

MAX_LABEL_BYTES = 64 << 20  # the real single_label.txt is about 2 MiB
MAX_CAPTION = 2000  # characters kept per caption in the raw label
WIDTH = "clip, label[, Chinese caption, English caption]"


@dataclass
class MafwRow:
    line: int
    clip: str  # the clip's file name as written (e.g. 03747.mp4)
    labels: dict[str, Any]  # PendingSample label fields: emotion or emotions, and raw


class LabelFileError(ValueError):
    """The label file as a whole cannot be read (not text, too large)."""


def read_lines(path: Path) -> tuple[list[str], str | None]:
    """The file's lines and a warning when it was not UTF-8 (GB18030, a common encoding of Chinese
    text files); LabelFileError when it is not a text file."""
    if path.stat().st_size > MAX_LABEL_BYTES:
        raise LabelFileError(f"file is larger than {MAX_LABEL_BYTES >> 20} MiB; not a MAFW label file")
    data = path.read_bytes()
    if b"\x00" in data:
        raise LabelFileError("not a text file (it holds NUL bytes)")
    note = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[:exc.start].count(b"\n") + 1
            raise LabelFileError(f"line {line} is neither UTF-8 nor GB18030 text") from None
        note = f"{path.name} is not UTF-8; read as GB18030"
    return text.splitlines(), note


def split_fields(text: str) -> list[str]:
    """A line's fields: tab-separated, else clip, label and the rest (the captions)."""
    if "\t" in text:
        return [p.strip() for p in text.strip("\r\n").split("\t")]
    return text.split(None, 2)


def _class(word: str, schema: LabelSchema) -> str:
    """One MAFW class by name (any case, or a synonym); a number or unknown word is a LabelError."""
    if word.lstrip("-").isdigit():
        raise LabelError(f"label {word[:40]!r} is a number; MAFW labels are class names "
                         f"({', '.join(c.lower() for c in schema.classes)})")
    try:
        return schema.class_name(word)
    except LabelError:
        raise LabelError(f"unknown MAFW class {word[:40]!r} (known: "
                         f"{', '.join(c.lower() for c in schema.classes)})") from None


def parse_label(word: str, schema: LabelSchema) -> dict[str, Any]:
    """The label fields of one label cell: `emotion` (single) or `emotions` (multi, `_`-joined)."""
    if not word:
        raise LabelError("label is empty")
    if schema.emotion_mode == "single":
        if "_" in word:
            raise LabelError(f"{word[:80]!r} is a compound label; compound labels are read from "
                             "multi_label.txt (import that file into its own dataset)")
        return {"emotion": _class(word, schema)}
    names = [_class(part, schema) for part in word.split("_")]
    if len(set(names)) != len(names):
        raise LabelError(f"compound label {word[:80]!r} names a class twice")
    return {"emotions": schema.check_emotions(names)}


def _captions(fields: list[str], tabbed: bool) -> dict[str, str]:
    rest = [f[:MAX_CAPTION] for f in fields[2:]]
    if tabbed and len(rest) == 2:
        return {k: v for k, v in (("caption_zh", rest[0]), ("caption_en", rest[1])) if v}
    return {"caption": rest[0]} if rest and rest[0] else {}


def parse_line(text: str, line: int, schema: LabelSchema, file: str) -> MafwRow | list[RowError]:
    """One line of a label file: its row, or the errors located on (file, line, field)."""
    fields = split_fields(text)
    tabbed = "\t" in text
    if not 2 <= len(fields) <= 4:
        how = "tab-separated " if tabbed else ""
        return [RowError(file, line, None, f"row has {len(fields)} {how}field(s); expected {WIDTH}")]
    clip, word = fields[0], fields[1]
    errors = []
    if not clip:
        errors.append(RowError(file, line, "clip", "clip name is empty"))
    try:
        labels = parse_label(word, schema)
    except LabelError as exc:
        errors.append(RowError(file, line, "label", str(exc)))
    if errors:
        return errors
    raw = {"label": word, "source": Path(file).name, **_captions(fields, tabbed)}
    return MafwRow(line, clip, {**labels, "raw": raw})
