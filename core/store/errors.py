"""The label store's failures as one-line errors naming the store and the cause (no driver
traceback, no password): a garbage file, a read-only folder, a full disk, a refused connection."""
from __future__ import annotations

from sqlalchemy.engine import make_url

HINTS = (
    (("not a database", "malformed", "file is encrypted"),
     "it is not a sound SQLite label store; restore a backup (`affectlab restore --from FILE --force`) "
     "or move the file away"),
    (("readonly", "read-only", "unable to open"), "check that the file and its folder exist and are writable"),
    (("disk is full", "no space", "quota"), "free disk space in its folder, then retry; nothing was written"),
    (("locked",), "another process holds the store; retry"),
)


class StoreError(RuntimeError):
    """The label store cannot be opened or written; the message names it and says why."""


def _where(url: str) -> str:
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without its password part
        return url.split("@")[-1]
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def store_error(exc: BaseException, url: str) -> StoreError:
    """A StoreError for a driver/OS exception raised while opening or writing the store at url."""
    cause = getattr(exc, "orig", None) or exc
    text = (getattr(cause, "strerror", None) or str(cause) or type(cause).__name__).splitlines()[0]
    hint = next((h for keys, h in HINTS if any(k in text.lower() for k in keys)), "")
    return StoreError(f"label store {_where(url)}: {text}" + (f"; {hint}" if hint else ""))
