"""Hostile corpus cases of the MAFW clip importer: malformed label lines, paths out of clips/, files
that are not text or not videos; each refused with its (line, field), nothing stored."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.reliability.corpus import Case

DATASET = "mafw13"  # a fresh dataset: the seeded one is single-label AffectNet-8, which MAFW's would orphan
GOOD = "00001.mp4"


def _mafw(lines: bytes | str, *, name: str = "single_label.txt",
          clips: Callable[[Path, Path], None] | None = None) -> Callable[[Path, Path], Path]:
    """case/caption-label/<name> holding `lines`, case/clips/ made by `clips` (default: empty)."""
    def build(case: Path, outside: Path) -> Path:
        (case / "clips").mkdir()
        (case / "caption-label").mkdir()
        data = lines.encode() if isinstance(lines, str) else lines
        (case / "caption-label" / name).write_bytes(data)
        if clips is not None:
            clips(case / "clips", outside)
        return case
    return build


def _good_clip(clips: Path, outside: Path) -> None:
    from tests.ingest.clipsets import clip

    clip(clips / GOOD, audio_hz=None)


def _link(target: str) -> Callable[[Path, Path], None]:
    def make(clips: Path, outside: Path) -> None:
        os.symlink(outside / target, clips / GOOD)
    return make


def mafw_cases() -> list[Case]:
    line1, line2 = 1, 2
    single = [
        ("unknown class", "00001.mp4\tboredom\tzh\ten", ((line1, "label"),)),
        ("class code", "00001.mp4\t3\tzh\ten", ((line1, "label"),)),
        ("superscript code", "00001.mp4\t²", ((line1, "label"),)),
        ("compound in single", "00001.mp4\tanger_fear", ((line1, "label"),)),
        ("empty label", "00001.mp4\t\tzh\ten", ((line1, "label"),)),
        ("empty clip", "\tanger\tzh\ten", ((line1, "clip"),)),
        ("missing clip file", "00009.mp4\tanger", ((line1, "clip"),)),
        ("clip path climbs out", "../../outside/face.png\tanger", ((line1, "clip"),)),
        ("clip path absolute", "/etc/passwd\tanger", ((line1, "clip"),)),
        ("label file with a NUL byte", "0\x001.mp4\tanger", ((None, None),)),
        ("five fields", "00001.mp4\tanger\tzh\ten\textra", ((line1, None),)),
        ("one field", "00001.mp4", ((line1, None),)),
        ("duplicate clip", "00009.mp4\tanger\n00009.mp4\tanger", ((line2, "clip"),)),
        ("empty file", "", ((None, None),)),
        ("blank lines only", "\n \n\t\n", ((None, None),)),
    ]
    out = [Case(f"mafw {name}", "mafw", _mafw(text), must, DATASET) for name, text, must in single]
    out += [Case(f"mafw multi {name}", "mafw", _mafw(text, name="multi_label.txt"), must, DATASET)
            for name, text, must in (
                ("unknown part", "20045.mp4\tanger_boredom", ((line1, "label"),)),
                ("repeated part", "20045.mp4\tanger_anger", ((line1, "label"),)),
                ("empty part", "20045.mp4\tanger__fear", ((line1, "label"),)),
            )]
    return out + [
        Case("mafw random bytes", "mafw", _mafw(os.urandom(3000) + b"\x00"), ((None, None),), DATASET),
        Case("mafw neither utf-8 nor gb18030", "mafw", _mafw(b"00001.mp4\t\xff\xfe\xff\n"), ((None, None),), DATASET),
        Case("mafw no label file", "mafw", lambda case, out: case, ((None, None),), DATASET),
        Case("mafw clip symlink to a secret", "mafw", _mafw(f"{GOOD}\tanger", clips=_link("secret.txt")),
             ((line1, "clip"),), DATASET),
        Case("mafw clip is text", "mafw", _mafw(f"{GOOD}\tanger",
                                                 clips=lambda c, o: (c / GOOD).write_bytes(b"no video\n" * 50)),
             ((line1, "video"),), DATASET),
        Case("mafw good clip then a bad line", "mafw", _mafw(f"{GOOD}\tanger\n00002.mp4\thappy_sad",
                                                             clips=_good_clip), ((line2, "label"),), DATASET),
    ]
