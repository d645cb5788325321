"""Splits read from dataset file names (annotation_training.pkl, annot_arrs_extra_train.csv, val.csv)."""
from __future__ import annotations

import re
from pathlib import Path

SPLIT_WORDS = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
               "test": "test", "testing": "test"}


def split_from_name(name: str) -> str | None:
    """The split a file name names as a word of its stem (train/training, val/validation, test), else None."""
    words = re.split(r"[^a-z]+", Path(name).stem.lower())
    return next((SPLIT_WORDS[w] for w in words if w in SPLIT_WORDS), None)
