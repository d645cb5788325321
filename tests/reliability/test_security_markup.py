"""Hostile names as markup (issue 16, item 4), generated: whatever a dataset, class, annotator or
file name holds, md() gives Streamlit markdown that shows it as typed (no link, image, HTML,
emphasis or autolink) and plot_text() gives a plotly label without tags."""
from __future__ import annotations

import html
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from tests.reliability.corpus import REPORT
from ui.text import md, plot_text

HYP = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck),
               max_examples=500)
MD = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])
# mdast-util-gfm-autolink-literal's patterns, run (as Streamlit's renderer does) on decoded text
AUTOLINK = re.compile(r"(?i)(https?://|www(?=\.))([-.\w]+)|[-.\w+]+@[-\w]+(?:\.[-\w]+)+")
PIECES = ["[x](http://evil.example/a)", "![p](http://evil.example/p.png)", "<img src=x onerror=alert(1)>",
          "<a href='http://evil.example'>x</a>", "**b**", "_i_", "`c`", ":red[r]", ":material/home:", "$x^2$",
          "www.evil.example", "me@evil.example", "https://evil.example", "# h", "1. item", "> q", "| a | b |",
          "<http://evil.example>", "&lt;b&gt;", "\\", "~~s~~", "---", "[r]: http://evil.example", "<!-- c -->"]
CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))  # layout blanks: see md
NAME = st.lists(st.one_of(st.sampled_from(PIECES), st.text(CHARS, max_size=8)), min_size=1, max_size=6).map(" ".join)


def rendered_text(source: str) -> tuple[str, list[str]]:
    """What markdown shows as text, and the kinds of non-text elements it would create."""
    text, elements = [], []
    for tok in MD.parse(source):
        if tok.type not in ("paragraph_open", "paragraph_close", "inline"):
            elements.append(tok.type)
        for child in tok.children or []:
            if child.type in ("text", "softbreak"):
                text.append(child.content if child.type == "text" else " ")
            else:
                elements.append(child.type)
    return "".join(text), elements


@HYP
@given(NAME)
def test_md_shows_any_name_as_typed(name):
    source = md(name)
    text, elements = rendered_text(source)
    shown = text.replace("\u2060", "")
    expected = " ".join(name.split("\n")).replace("\r", " ").strip()
    links = AUTOLINK.findall(text)
    ok = not elements and not links and shown == expected
    REPORT.record("markup: generated names", clear_error=ok, crash=not ok)
    assert ok, (name, source, elements, links, shown)


@HYP
@given(NAME)
def test_plot_text_has_no_tags(name):
    label = plot_text(name)
    ok = "<" not in label and ">" not in label and html.unescape(label) == name
    REPORT.record("markup: generated chart labels", clear_error=ok, crash=not ok)
    assert ok, (name, label)
