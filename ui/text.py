"""User text (names, subjects, notes, file names) shown literally inside Streamlit markdown."""
from __future__ import annotations

import html
import re

# ASCII punctuation that opens markdown (CommonMark + GFM), Streamlit's :colour[...] and :icon:
# directives, $maths$ and e-mail autolinks; a backslash before it shows it as typed
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-!|~$:@])")
_LIST = re.compile(r"^(\d+)\.")  # "1. " starts a list
# GFM autolink literals ("http://x", "www.x", "a@b.c") are found in the rendered text, after
# escapes and character references are decoded (seen in Chromium): an invisible WORD JOINER
# inside each trigger ("http:⁠//", "www⁠.", "a@⁠b") keeps them from matching
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)")
_JOINER = "\u2060"


def md(text: object) -> str:
    """`text` for st.markdown / caption / title / alerts / image captions, shown exactly as typed:
    never HTML, a link, an image, emphasis, a colour or maths; line breaks become spaces."""
    flat = " ".join(str(text).split("\n")).replace("\r", " ").strip()
    joined = _AUTOLINK.sub(_JOINER, flat)
    return html.escape(_LIST.sub(r"\1\\.", _PUNCT.sub(r"\\\1", joined)), quote=False)


def plot_text(text: object) -> str:
    """`text` for a plotly label, legend entry, axis category or hover value: plotly reads tags
    (<a href>, <b>, <br>) in them; as entities they show as typed."""
    return html.escape(str(text), quote=False)
