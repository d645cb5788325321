"""A restricted unpickler for annotation pickles: plain dicts, lists, tuples, strings and numbers only."""
from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

MAX_PICKLE_BYTES = 512 * 1024**2  # FIV2's largest annotation pickle is a few hundred KiB
PLAIN = (dict, list, tuple, str, int, float, bool, type(None))


class PickleRefused(ValueError):
    """A pickle that names a class or function, or holds something other than plain data."""


class _PlainUnpickler(pickle.Unpickler):
    """Builds only what pickle's own opcodes make (dict, list, tuple, str, int, float ...).

    Every class, function or module global goes through find_class: refused, so no constructor
    and no __reduce__ callable of the file ever runs. The extension registry (EXT opcodes) also
    resolves through find_class; persistent ids go to persistent_load: refused too.
    """

    def find_class(self, module: str, name: str) -> Any:
        raise PickleRefused(f"the pickle names {str(module)[:80]}.{str(name)[:80]}; only plain dicts, "
                            "lists, strings and numbers are read (it was not executed; the same content "
                            "as JSON or CSV is read too)")

    def persistent_load(self, pid: Any) -> Any:
        raise PickleRefused("the pickle refers to a persistent object; only plain data is read")


def _check_plain(value: Any) -> None:
    """Refuse bytes, sets and anything else the opcodes can build that is not plain data."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) not in PLAIN:
            raise PickleRefused(f"the pickle holds a {type(v).__name__}; only dicts, lists, tuples, "
                                "strings and numbers are read")
        if type(v) is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
        elif type(v) in (list, tuple):
            stack.extend(v)


def loads_plain(data: bytes) -> Any:
    """The plain data of a pickle (Python 2 pickles: str read as latin-1); PickleRefused otherwise."""
    try:
        value = _PlainUnpickler(io.BytesIO(data), encoding="latin1").load()
    except PickleRefused:
        raise
    except RecursionError:
        raise PickleRefused("the pickle nests too deeply to be plain annotation data") from None
    except MemoryError:
        raise PickleRefused("the pickle does not fit in memory") from None
    except Exception as exc:  # noqa: BLE001 - a damaged pickle raises many types (EOFError, KeyError ...)
        raise PickleRefused(f"not a readable pickle ({type(exc).__name__}: {str(exc)[:120]})") from None
    _check_plain(value)
    return value


def load_plain(path: Path) -> Any:
    """loads_plain of a file, refusing files over MAX_PICKLE_BYTES before reading them."""
    size = path.stat().st_size
    if size > MAX_PICKLE_BYTES:
        raise PickleRefused(f"the pickle is {size >> 20} MiB, more than {MAX_PICKLE_BYTES >> 20} MiB")
    return loads_plain(path.read_bytes())
