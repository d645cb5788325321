"""User text (names, subjects, notes, file names) shown literally inside Streamlit markdown."""
from __future__ import annotations

import html
import re

# ASCII punctuation that opens markdown (CommonMark + GFM), Streamlit's :colour[...] and :icon:
# directives, $maths$ and e-mail autolinks; a backslash before it shows it as typed
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-!|~$:@])")
_WWW = re.compile(r"(?i)(?<=www)\.")  # "www.x.org" autolinks
_LIST = re.compile(r"^(\d+)\.")  # "1. " starts a list


def md(text: object) -> str:
    """`text` for st.markdown / caption / title / alerts / image captions, shown exactly as typed:
    never HTML, a link, an image, emphasis, a colour or maths; line breaks become spaces."""
    flat = " ".join(str(text).split("\n")).replace("\r", " ").strip()
    escaped = _LIST.sub(r"\1\\.", _WWW.sub(r"\\.", _PUNCT.sub(r"\\\1", flat)))
    return html.escape(escaped, quote=False)
