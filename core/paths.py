"""Paths read from the store are data, not orders: they are used only inside the data or models dir."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.config import get_settings


class PathRefused(ValueError):
    """A stored path that leads outside the allowed folders (a hostile or restored row)."""


def allowed_roots() -> tuple[Path, Path]:
    """The data dir and the models dir (AFFECTLAB_DATA_DIR, AFFECTLAB_MODELS_DIR)."""
    settings = get_settings()
    return settings.data_dir, settings.models_dir


def confined(stored: str | Path, roots: Sequence[Path] | None = None, *, base: Path | None = None) -> Path:
    """The real path of `stored` (relative paths are taken from `base`, default the first root) if
    it lies inside one of `roots` (default: the data and the models dir) after every symbolic link
    and `..` is followed; PathRefused otherwise. The file need not exist."""
    roots = tuple(roots) if roots is not None else allowed_roots()
    text = str(stored)
    if not text or "\x00" in text:
        raise PathRefused("empty stored path" if not text else "stored path holds a NUL byte")
    raw = Path(text)
    candidate = raw if raw.is_absolute() else (base or roots[0]) / raw
    try:
        real = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic link loop
        raise PathRefused(f"stored path {text!r} cannot be resolved: {exc}") from None
    for root in roots:
        if real.is_relative_to(root.resolve()):
            return real
    raise PathRefused(f"stored path {text!r} leads outside the data and models folders: not used")


def data_file(stored: str | Path) -> Path | None:
    """A data-dir relative file from the store (crop, media), or None when it is missing or refused."""
    try:
        path = confined(stored, (get_settings().data_dir,))
    except PathRefused:
        return None
    return path if path.is_file() else None
