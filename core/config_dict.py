"""Build a config dataclass from a stored dict, warning about keys it does not know."""
from __future__ import annotations

import warnings
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_known_keys(cls: type[T], d: dict[str, Any]) -> T:
    """`cls(**d)` for the keys `cls` declares; unknown keys (a newer or older writer) warn."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(d) - known)
    if unknown:
        warnings.warn(f"{cls.__name__} ignores unknown keys {unknown}", stacklevel=3)
    return cls(**{k: v for k, v in d.items() if k in known})
