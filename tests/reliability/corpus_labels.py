"""Hostile corpus cases of the richer-label importers (emotic, mosei, fiv2): malformed values, list
literals, arrays and pickles, each refused with its (line, field) and nothing stored or executed."""
from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.reliability.corpus import Case

DATASET = "labels12"  # a fresh dataset: the seeded one is single-label, which these schemas would orphan
PRE = "Index,Folder,Filename,Image Size,BBox,Categorical_Labels,Continuous_Labels,Gender,Age"
MOSEI = "video_id,start,end,sentiment,happy,sad,anger,surprise,disgust,fear"
CLIP = "Xy0-AbC.001.mp4"


class _Pwn:
    """Unpickling this runs a shell command that writes outside/pwned.txt (it must never run)."""

    def __init__(self, outside: Path):
        self.target = outside / "pwned.txt"

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.target}",))


def _text(name: str, text: str) -> Callable[[Path, Path], Path]:
    def build(case: Path, outside: Path) -> Path:
        (case / name).parent.mkdir(parents=True, exist_ok=True)
        (case / name).write_text(text)
        return case
    return build


def _emotic(cats: str = "['Peace']", cont: str = "[5, 5, 5]", box: str = "[0, 0, 9, 9]",
            body: Callable[[Path], None] | None = None) -> Callable[[Path, Path], Path]:
    """train.csv with one row (line 2) and, by default, a valid one-crop train_body_arr.npy."""
    def build(case: Path, outside: Path) -> Path:
        (case / "train.csv").write_text(f'{PRE}\n0,f,a.jpg,"[9, 9]","{box}","{cats}","{cont}",Male,Adult\n')
        if body is None:
            np.save(case / "train_body_arr.npy", np.zeros((1, 16, 16, 3), np.uint8))
        else:
            body(case / "train_body_arr.npy")
        return case
    return build


def _kaggle(cells: dict[str, str], drop: str | None = None) -> Callable[[Path, Path], Path]:
    from core.label_schema import EMOTIC26

    def build(case: Path, outside: Path) -> Path:
        row = {"Filename": "a.jpg", "Crop_name": "c.npy", "X_min": "0", "Y_min": "0", "X_max": "9", "Y_max": "9",
               "Valence": "5", "Arousal": "5", "Dominance": "5", **{c: "0" for c in EMOTIC26}, **cells}
        row.pop(drop, None)
        (case / "img_arrs").mkdir()
        np.save(case / "img_arrs" / "c.npy", np.zeros((16, 16, 3), np.uint8))
        return _text("annots_arrs/annot_arrs_train.csv", ",".join(row) + "\n" + ",".join(row.values()) + "\n")(
            case, outside)
    return build


def _fiv2(name: str, data: Callable[[Path], bytes] | bytes) -> Callable[[Path, Path], Path]:
    def build(case: Path, outside: Path) -> Path:
        (case / name).write_bytes(data(outside) if callable(data) else data)
        return case
    return build


def _pickled(labels: dict) -> bytes:
    return pickle.dumps(labels, protocol=2)


def label_cases() -> list[Case]:
    E, M, F = "emotic", "mosei", "fiv2"  # noqa: N806 - kind names
    line2 = ((2, None),)
    return [Case(f"{E} {name}", E, build, must, DATASET) for name, build, must in (
        ("unknown category", _emotic(cats="['Bored']"), ((2, "Categorical_Labels"),)),
        ("category code", _emotic(cats="[3]"), ((2, "Categorical_Labels"),)),
        ("category not a list", _emotic(cats="Peace"), ((2, "Categorical_Labels"),)),
        ("call in a literal", _emotic(cats="__import__('os').system('id')"), ((2, "Categorical_Labels"),)),
        ("nested literal", _emotic(cats="[" * 1500 + "]" * 1500), ((2, "Categorical_Labels"),)),
        ("valence 11", _emotic(cont="[11, 5, 5]"), ((2, "Continuous_Labels"),)),
        ("dominance 0", _emotic(cont="[5, 5, 0]"), ((2, "Continuous_Labels"),)),
        ("two values", _emotic(cont="[5, 5]"), ((2, "Continuous_Labels"),)),
        ("empty box", _emotic(box="[5, 5, 5, 9]"), ((2, "BBox"),)),
        ("box inf", _emotic(box="[0, 0, 1e999, 9]"), ((2, "BBox"),)),
        ("object npy", _emotic(body=lambda p: np.save(p, np.array([{}], dtype=object), allow_pickle=True)),
         ((None, None),)),
        ("npy random bytes", _emotic(body=lambda p: p.write_bytes(os.urandom(300))), ((None, None),)),
        ("npy float crops", _emotic(body=lambda p: np.save(p, np.zeros((1, 8, 8, 3)))), ((None, None),)),
        ("kaggle cell 2", _kaggle({"Pain": "2"}), ((2, "Pain"),)),
        ("kaggle missing category", _kaggle({}, drop="Yearning"), ((None, None),)),
        ("kaggle crop outside", _kaggle({"Crop_name": "../../outside/face.png"}), ((2, "Crop_name"),)),
        ("kaggle valence nan text", _kaggle({"Valence": "x"}), ((2, "valence"),)),
        ("json duplicate key", _text("p.json", '[{"bbox": [0, 0, 9, 9], "bbox": [1, 1, 9, 9]}]'), ((None, None),)),
        ("json not a list", _text("p.json", '{"image_path": "a.png"}'), ((None, None),)),
        ("not a layout", _text("x.csv", "a,b\n1,2\n"), ((None, None),)),
    )] + [Case(f"{M} {name}", M, _text("labels.csv", f"{MOSEI}\n{row}\n"), must, DATASET) for name, row, must in (
        ("intensity 3.5", "v,0,1,0,3.5,0,0,0,0,0", ((2, "happy"),)),
        ("intensity -1", "v,0,1,0,0,-1,0,0,0,0", ((2, "sad"),)),
        ("intensity nan", "v,0,1,0,0,0,nan,0,0,0", ((2, "anger"),)),
        ("intensity inf", "v,0,1,0,0,0,0,inf,0,0", ((2, "surprise"),)),
        ("sentiment 4", "v,0,1,4,0,0,0,0,0,0", ((2, "sentiment"),)),
        ("end before start", "v,2,1,0,0,0,0,0,0,0", ((2, "end"),)),
        ("video id path", "../v,0,1,0,0,0,0,0,0,0", ((2, "video_id"),)),
        ("duplicate segment", "v,0,1,0,0,0,0,0,0,0\nv,0,1,0,0,0,0,0,0,0", ((3, "start"),)),
        ("too many cells", "v,0,1,0,0,0,0,0,0,0,9", line2),
    )] + [Case(f"{M} missing fear", M, _text("labels.csv", f"{MOSEI[:-5]}\nv,0,1,0,0,0,0,0,0\n"),
               ((None, None),), DATASET)] + [Case(f"{F} {name}", F, build, must, DATASET) for name, build, must in (
        ("pickle runs a command", _fiv2("annotation_training.pkl",
                                        lambda out: _pickled({"openness": {CLIP: _Pwn(out)}})), ((None, None),)),
        ("pickle of a class", _fiv2("annotation_training.pkl", pickle.dumps(Path)), ((None, None),)),
        ("pickle with a set", _fiv2("annotation_training.pkl", _pickled({"openness": {CLIP: {1}}})),
         ((None, None),)),
        ("truncated pickle", _fiv2("annotation_training.pkl", _pickled({"openness": {CLIP: 0.5}})[:9]),
         ((None, None),)),
        ("trait 1.2", _fiv2("annotation_training.pkl", _pickled({"openness": {CLIP: 1.2}})), ((None, "openness"),)),
        ("trait -0.1", _fiv2("annotation_training.pkl", _pickled({"interview": {CLIP: -0.1}})),
         ((None, "interview"),)),
        ("trait unknown", _fiv2("annotation_training.pkl", _pickled({"charisma": {CLIP: 0.5}})), ((None, "charisma"),)),
        ("trait text", _fiv2("annotation_training.pkl", _pickled({"openness": {CLIP: "high"}})), ((None, "openness"),)),
        ("video path", _fiv2("annotation_training.pkl", _pickled({"openness": {"../x.mp4": 0.5}})),
         ((None, "openness"),)),
        ("json NaN", _fiv2("annotation_training.json", f'{{"openness": {{"{CLIP}": NaN}}}}'.encode()),
         ((None, "openness"),)),
        ("json duplicate key", _fiv2("annotation_training.json",
                                     json.dumps({"openness": {CLIP: 0.5}}).replace("}}", f', "{CLIP}": 0.6}}}}')
                                     .encode()), ((None, None),)),
        ("csv duplicate clip", _fiv2("annotation_training.csv", f"video,openness\n{CLIP},0.5\n{CLIP},0.5\n".encode()),
         ((3, "video"),)),
        ("csv trait text", _fiv2("annotation_training.csv", f"video,openness\n{CLIP},abc\n".encode()),
         ((2, "openness"),)),
    )]
