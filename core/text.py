"""User-controlled text made safe to print: terminal control characters escaped, credentials masked."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote

from core.config import get_settings

# Bidirectional overrides/isolates and line/paragraph separators: they reorder or break what a
# terminal shows (CVE-2021-42574 "Trojan Source") though they are not category Cc.
_INVISIBLE = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
# scheme://user:password@ (the password may hold anything but whitespace; the last @ ends it)
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^\s:/@'\"]*:)(?P<pw>[^\s'\"]*)(?P<at>@)")
MASK = "***"


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_terminal(text: object, *, keep_newlines: bool = False) -> str:
    """`text` with every control character (C0, DEL, C1, bidi controls, line separators) written as
    a visible escape (ESC -> \\x1b, CR -> \\r): it cannot clear the screen, set the title, move the
    cursor or overwrite a line. Tabs stay; newlines stay only with keep_newlines (for a message
    whose own lines were escaped before they were joined)."""
    out = []
    for ch in str(text):
        if ch == "\t" or (ch == "\n" and keep_newlines):
            out.append(ch)
        elif ch in _INVISIBLE or unicodedata.category(ch) == "Cc":
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def masked_url(url: object) -> str:
    """A database (or any) URL with its password replaced by ***: for logs, errors and pages."""
    text = str(url)
    try:
        from sqlalchemy.engine import make_url

        text = make_url(text).render_as_string(hide_password=True)  # SQLAlchemy writes *** too
    except Exception:  # noqa: BLE001 - unparsable: the pattern below still masks it
        pass
    return _URL_CREDENTIALS.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)


def _secrets_of(url: str) -> set[str]:
    """The password of a URL as written, percent-decoded and re-encoded (errors show any form)."""
    found = set()
    for m in _URL_CREDENTIALS.finditer(url):
        found.add(m["pw"])
    try:
        from sqlalchemy.engine import make_url

        pw = make_url(url).password
        if pw:
            found.add(str(pw))
    except Exception:  # noqa: BLE001 - unparsable URL: the pattern's guess is all we have
        pass
    forms = set()
    for pw in found:
        if len(pw) >= 3:  # never mask a short common substring all over a message
            forms |= {pw, unquote(pw), quote(pw, safe=""), quote(unquote(pw), safe=""),
                      pw.replace("%", "%%"), quote(unquote(pw), safe="").replace("%", "%%")}
    return {f for f in forms if len(f) >= 3}


def mask_secrets(text: object, urls: tuple[str, ...] | None = None) -> str:
    """`text` (an error message, a log line) with every URL password masked, and the passwords of
    `urls` (default: the configured AFFECTLAB_DB_URL) masked wherever else they appear."""
    if urls is None:
        urls = (get_settings().db_url,)
    out = _URL_CREDENTIALS.sub(lambda m: f"{m['head']}{MASK}{m['at']}", str(text))
    for secret in sorted(set().union(*(_secrets_of(u) for u in urls)), key=len, reverse=True):
        out = out.replace(secret, MASK)
    return out


def safe_message(exc: BaseException | str, *, keep_newlines: bool = False) -> str:
    """An error message for a terminal: secrets masked, control characters escaped; newlines kept
    only for a message built of lines escaped one by one (an ImportFailed's list of bad rows)."""
    return safe_terminal(mask_secrets(exc), keep_newlines=keep_newlines)
