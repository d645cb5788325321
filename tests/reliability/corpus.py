"""The hand-made hostile corpus: one builder per case, each returning what to import and the
(line, field) errors the refusal must name."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.helpers import write_image, write_openface
from tests.reliability.hostile import BOMBS, image_bytes, noise_video

HEADER = "image_path,emotion,valence,arousal"
OK_ROW = "ok.png,Happy,0.5,0.5"


@dataclass
class Case:
    name: str
    kind: str
    build: Callable[[Path, Path], Path]  # (case dir, outside dir) -> the path to import
    must: tuple[tuple[int | None, str | None], ...] = ()  # (line, field) pairs that must be reported
    dataset: str = "seeded"  # the dataset imported into (richer-label kinds use a fresh one)


def _csv(body: str, *, header: str = HEADER, ok_row: str | None = OK_ROW, name: str = "labels.csv",
         delimiter: str = ",", encoding: str = "utf-8", errors: str = "strict", prefix: bytes = b""
         ) -> Callable[[Path, Path], Path]:
    """header, a good row (its image written as ok.png) and body, with `delimiter` for commas."""
    def build(case: Path, outside: Path) -> Path:
        if ok_row:
            write_image(case / "ok.png", 7)
        text = "\n".join([header, *([ok_row] if ok_row else []), body]).replace(",", delimiter) + "\n"
        (case / name).write_bytes(prefix + text.encode(encoding, errors))
        return case / name
    return build


def _bad_image(filename: str, data: bytes) -> Callable[[Path, Path], Path]:
    def build(case: Path, outside: Path) -> Path:
        (case / filename).write_bytes(data)
        return _csv(f"{filename},Sad,0,0")(case, outside)
    return build


def _link(target: str, name: str = "link.png") -> Callable[[Path, Path], Path]:
    """A symlink inside the import root (its first path part) to outside/target, named by a row."""
    def build(case: Path, outside: Path) -> Path:
        os.symlink(outside / target, case / name.split("/")[0])
        return _csv(f"{name},Sad,0,0")(case, outside)
    return build


def _folder(setup: Callable[[Path, Path], None]) -> Callable[[Path, Path], Path]:
    def build(case: Path, outside: Path) -> Path:
        write_image(case / "Happy" / "ok.png", 11)
        setup(case, outside)
        return case
    return build


def _openface(mutate: Callable[[Path], None]) -> Callable[[Path, Path], Path]:
    def build(case: Path, outside: Path) -> Path:
        csv = write_openface(case, "Happy", "clip", frames=3)
        mutate(csv)
        return case
    return build


def _drop_column(col: str) -> Callable[[Path], None]:
    def mutate(csv: Path) -> None:
        rows = [line.split(", ") for line in csv.read_text().splitlines()]
        i = [c.strip() for c in rows[0]].index(col)
        csv.write_text("\n".join(", ".join(r[:i] + r[i + 1:]) for r in rows) + "\n")
    return mutate


def _set_cell(line: int, col: str, value: str) -> Callable[[Path], None]:
    def mutate(csv: Path) -> None:
        rows = [line.split(", ") for line in csv.read_text().splitlines()]
        rows[line - 1][[c.strip() for c in rows[0]].index(col)] = value
        csv.write_text("\n".join(", ".join(r) for r in rows) + "\n")
    return mutate


def _aligned(frame: int, data: bytes | None) -> Callable[[Path], None]:
    def mutate(csv: Path) -> None:
        bmp = csv.parent / "clip_aligned" / f"frame_det_00_{frame:06d}.bmp"
        bmp.unlink() if data is None else bmp.write_bytes(data)
    return mutate


def _file(name: str, data: bytes | Callable[[Path], None]) -> Callable[[Path, Path], Path]:
    def build(case: Path, outside: Path) -> Path:
        (data(case / name) if callable(data) else (case / name).write_bytes(data))
        return case / name
    return build


def _truncated_asset(name: str, keep: float) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        from core.assets import asset_path
        data = asset_path(name).read_bytes()
        path.write_bytes(data[:int(len(data) * keep)])
    return write


def _fer(rows: list[str]) -> Callable[[Path, Path], Path]:
    good = " ".join(["128"] * 2304)
    return _csv("\n".join(r.replace("GOOD", good) for r in rows), header="emotion,pixels,Usage", ok_row=None,
                name="fer.csv")


RNG = np.random.default_rng(0)
JPEG = image_bytes("JPEG", 1)
ROW2 = (3, "image_path")  # the bad row is line 3 (after the header and one good row)


def cases() -> list[Case]:
    out = [
        # CSV structure
        Case("bom", "csv", _csv("ok.png,Bored,0,0", prefix=b"\xef\xbb\xbf"), ((3, "emotion"),)),
        *[Case(f"delimiter {d!r}", "csv", _csv("ok.png,Bored,0,0", delimiter=d), ((3, "emotion"),))
          for d in (";", "\t", "|")],
        *[Case(f"missing column {c}", "csv", _csv("", header=HEADER.replace(c, "other")), ((None, None),))
          for c in ("image_path", "emotion", "valence", "arousal")],
        Case("duplicated column", "csv", _csv("", header=HEADER + ",valence"), ((None, None),)),
        Case("empty file", "csv", _file("e.csv", b""), ((None, None),)),
        Case("blank file", "csv", _file("e.csv", b" \n\n\t\n"), ((None, None),)),
        Case("random bytes", "csv", _file("r.csv", RNG.bytes(3000)), ((None, None),)),
        Case("png named .csv", "csv", _file("p.csv", image_bytes("PNG")), ((None, None),)),
        Case("utf-16", "csv", _csv("ok.png,Sad,0,0", encoding="utf-16"), ((None, None),)),
        Case("invalid utf-8 after 64 KiB", "csv", _csv("ok.png,1,0,0\n" * 7000 + "ok.png,\udcff,0,0",
                                                       encoding="utf-8", errors="surrogateescape")),
        Case("unterminated quote", "csv", _csv('"ok.png,Sad,0,0'), ((3, None),)),
        Case("too many cells", "csv", _csv("ok.png,Sad,0,0,extra"), ((3, None),)),
        Case("too few cells", "csv", _csv("ok.png,Sad"), ((3, None),)),
        Case("unknown split", "csv", _csv("ok.png,Sad,0,0,holdout", header=HEADER + ",split"),
             ((3, "split"),)),
        Case("quality nan", "csv", _csv("ok.png,Sad,0,0,nan", header=HEADER + ",quality"), ((3, "quality"),)),
        Case("parquet garbage", "csv", _file("t.parquet", b"PAR1" + RNG.bytes(200)), ((None, None),)),
        # values
        *[Case(f"valence {v}", "csv", _csv(f"ok.png,Sad,{v},0"), ((3, "valence"),))
          for v in ("nan", "NaN", "inf", "-inf", "Infinity", "1e309", "1.0001", "-1.5", "abc", "0x1", "--1")],
        *[Case(f"arousal {v}", "csv", _csv(f"ok.png,Sad,0,{v}"), ((3, "arousal"),)) for v in ("nan", "2", "-7")],
        *[Case(f"stress {v}", "csv", _csv(f"ok.png,Sad,0,0,{v}", header=HEADER + ",stress"), ((3, "stress"),))
          for v in ("nan", "-0.1", "1.1", "inf")],
        *[Case(f"emotion {e[:12]!r}", "csv", _csv(f"ok.png,{e},0,0"), ((3, "emotion"),))
          for e in ("Bored", "8", "-1", "²", "--5", "9" * 400, "Happy!", "1.5", "０x", "٨")],
        # paths escaping the import root
        *[Case(f"path {p!r}", "csv", _csv(f"{p},Sad,0,0"), (ROW2,))
          for p in ("../outside/face.png", "../../../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini",
                    "ok.png/../../outside/face.png", "\\\\server\\share\\x.png", "imgs/\x00.png",
                    "..", "missing.png", "sub/")],
        Case("absolute path to a real image", "csv",
             lambda case, out: _csv(f"{out / 'face.png'},Sad,0,0")(case, out), (ROW2,)),
        Case("symlink to a file outside", "csv", _link("face.png"), (ROW2,)),
        Case("symlink to a folder outside", "csv", _link("dir", "linkdir/face.png"), (ROW2,)),
        Case("symlink to a secret", "csv", _link("secret.txt", "s.png"), (ROW2,)),
        # broken images named .jpg
        Case("zero-byte jpg", "csv", _bad_image("z.jpg", b""), (ROW2,)),
        Case("text named jpg", "csv", _bad_image("t.jpg", b"hello, I am not a JPEG\n" * 10), (ROW2,)),
        *[Case(f"truncated jpg {k}", "csv", _bad_image("t.jpg", JPEG[:k]), (ROW2,)) for k in (2, 100, 600)],
        *[Case(f"bomb .{ext}", "csv", _bad_image(f"b.{ext}", make(60000, 60000)), (ROW2,))
          for ext, make in BOMBS.items() if ext != "jpg"],
        # folder import
        Case("folder: unknown class", "folder", _folder(lambda c, o: write_image(c / "Bored" / "a.png", 1)),
             ((None, "emotion"),)),
        Case("folder: zero-byte image", "folder", _folder(lambda c, o: _mk(c / "Sad" / "z.jpg", b"")),
             ((None, "image_path"),)),
        Case("folder: bomb", "folder", _folder(lambda c, o: _mk(c / "Sad" / "b.png", BOMBS["png"](9000, 9000))),
             ((None, "image_path"),)),
        Case("folder: symlinked image outside", "folder",
             _folder(lambda c, o: os.symlink(o / "face.png", c / "Happy" / "x.png")), ((None, "image_path"),)),
        Case("folder: symlinked class outside", "folder",
             _folder(lambda c, o: os.symlink(o / "dir", c / "Sad")), ((None, "image_path"),)),
        Case("folder: no class folders", "folder", lambda c, o: c, ((None, None),)),
        # FER2013
        *[Case(f"fer2013 {label}", "fer2013", _fer([row]), ((2, field),)) for label, row, field in (
            ("emotion 7", "7,GOOD,Training", "emotion"), ("emotion ²", "²,GOOD,Training", "emotion"),
            ("emotion long", "9" * 5000 + ",GOOD,Training", "emotion"),
            ("too few pixels", "1,1 2 3,Training", "pixels"), ("pixel 256", "1," + "256 " * 2304 + ",Training",
                                                              "pixels"),
            ("pixel text", "1," + "x " * 2304 + ",Training", "pixels"), ("usage", "1,GOOD,Holdout", "Usage"))],
        # OpenFace
        *[Case(f"openface missing {c}", "openface", _openface(_drop_column(c)), ((None, None),))
          for c in ("frame", "face_id", "confidence", "success")],
        *[Case(f"openface {c}={v}", "openface", _openface(_set_cell(2, c, v)), ((2, c),))
          for c, v in (("confidence", "nan"), ("frame", "abc"), ("success", "inf"), ("AU01_r", "x"))],
        Case("openface aligned image missing", "openface", _openface(_aligned(2, None)), ((3, "image_path"),)),
        Case("openface aligned image empty", "openface", _openface(_aligned(1, b"")), ((2, "image_path"),)),
        Case("openface aligned bomb", "openface", _openface(_aligned(3, BOMBS["bmp"](30000, 30000))),
             ((4, "image_path"),)),
        # videos and loose images
        Case("video zero bytes", "video", _file("z.mp4", b""), ((None, "video"),)),
        Case("video random bytes", "video", _file("r.mp4", RNG.bytes(5000)), ((None, "video"),)),
        Case("video text named .avi", "video", _file("t.avi", b"not a video\n" * 100), ((None, "video"),)),
        Case("video truncated", "video", _file("cut.mp4", _truncated_asset("single_face.mp4", 0.05)),
             ((None, "video"),)),
        Case("video with no face", "video", _file("noise.avi", noise_video), ((None, "video"),)),
        Case("image with no face", "images", _file("gray.png", image_bytes("PNG", 3, size=96)),
             ((None, "image"),)),
        Case("image zero bytes", "images", _file("z.jpg", b""), ((None, "image"),)),
        Case("image bomb", "images", _file("b.gif", BOMBS["gif"](20000, 20000)), ((None, "image"),)),
    ]
    from tests.reliability.corpus_labels import label_cases  # it builds on Case
    from tests.reliability.corpus_mafw import mafw_cases

    return out + label_cases() + mafw_cases()


def _mk(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)



@dataclass
class Tally:
    """Outcomes of one class of generated cases (the corpus report's columns)."""

    tried: int = 0
    clear_errors: int = 0  # refused with a one-line error naming the file and the cause
    crashes: int = 0  # an undocumented exception, a hang, a non-zero exit without a message
    tracebacks: int = 0  # a traceback shown to the user (stderr of a CLI run)
    outside_files: int = 0  # files written outside the data dir / the named target
    labels_changed: int = 0
    crops_lost: int = 0  # committed samples whose crop file is gone
    misaligned: int = 0  # stored values that differ from their source cell


@dataclass
class Report:
    """Per class, what the reliability tests tried and what happened; printed by test_zz_report."""

    classes: dict[str, Tally] = field(default_factory=dict)

    def record(self, cls: str, *, clear_error: bool = False, crash: bool = False, traceback: bool = False,
               outside_files: int = 0, labels_changed: int = 0, crops_lost: int = 0, misaligned: int = 0) -> None:
        t = self.classes.setdefault(cls, Tally())
        t.tried += 1
        t.clear_errors += int(clear_error)
        t.crashes += int(crash)
        t.tracebacks += int(traceback)
        t.outside_files += outside_files
        t.labels_changed += labels_changed
        t.crops_lost += crops_lost
        t.misaligned += misaligned

    def total(self) -> Tally:
        out = Tally()
        for t in self.classes.values():
            for k in vars(out):
                setattr(out, k, getattr(out, k) + getattr(t, k))
        return out

    def table(self) -> str:
        cols = list(vars(Tally()))
        width = max([len(c) for c in self.classes] + [5])
        lines = ["class".ljust(width) + "".join(c.rjust(15) for c in cols)]
        for name, t in sorted(self.classes.items()) + [("TOTAL", self.total())]:
            lines.append(name.ljust(width) + "".join(str(getattr(t, c)).rjust(15) for c in cols))
        return "\n".join(lines)


REPORT = Report()
