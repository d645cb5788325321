"""Safe output: exported CSVs neutralise spreadsheet formulas; names and free text shown by the pages
are displayed literally (no raw HTML, links, images, emphasis, colours or maths from user text)."""
from __future__ import annotations

import csv
import re

import pandas as pd
import pytest
from markdown_it import MarkdownIt
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from core.assets import asset_path
from core.config import REPO_ROOT
from core.export import FORMULA_START, export_dataset, safe_cell
from core.ingest import import_path
from core.store.db import read_session, write_session
from core.store.labels import edit_label
from core.store.models import Sample
from tests.helpers import write_image

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1+1"]
TAG = "<img src=x onerror=alert(1)>"
PIECES = {"onerror": TAG, "BOLD": "**BOLD**", "CLICK": "[CLICK](http://evil.example)",
          "PIX": "![PIX](http://evil.example/p.png)", "RED": ":red[RED]", "x^2": "$x^2$",
          "www": "www.evil.example", "@": "x@evil.example"}
HOSTILE = " ".join(PIECES.values())
MARKDOWN = ("title", "header", "subheader", "caption", "markdown", "error", "warning", "info", "success",
            "toast", "exception")
LABELLED = ("button", "checkbox", "radio", "selectbox", "multiselect", "slider", "select_slider", "text_input",
            "number_input", "toggle", "expander", "tab", "metric", "download_button", "file_uploader")
MD = MarkdownIt("commonmark", {"html": True}).enable(["strikethrough", "table"])


def _page(name: str) -> str:
    folder = "app_pages" if (REPO_ROOT / "app_pages").is_dir() else "pages"
    return f"{folder}/{name}.py"


# -- spreadsheet formulas --------------------------------------------------------------------------

@pytest.mark.parametrize("text", FORMULAS)
def test_safe_cell_neutralises_every_formula_start(text):
    assert safe_cell(text) == "'" + text and safe_cell(-1.5) == -1.5 and safe_cell("ok") == "ok"


def _assert_no_formula(rows: list[list[str]]) -> int:
    checked = 0
    for row in rows:
        for cell in row:
            try:
                float(cell)
                continue  # numbers (e.g. a valence of -0.5) are data, not formulas
            except ValueError:
                pass
            assert not cell.startswith(FORMULA_START), (cell, row)
            checked += 1
    return checked


def test_exported_csv_neutralises_formulas_in_text_cells(env):
    root = env / "in"
    names = ["=cmd.png", "+x.png", "-y.png", "@z.png", "ok.png", "t.png"]
    lines = ["image_path,emotion,valence,arousal,subject"]
    for i, (name, subject) in enumerate(zip(names, FORMULAS)):
        write_image(root / name, 300 + i)
        lines.append(f'{name},Sad,-0.5,0.25,"{subject.replace(chr(34), chr(34) * 2)}"')
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    import_path("csv", root / "labels.csv", dataset="d")
    with write_session() as s, s.begin():  # tab / CR starts cannot come through the importer (stripped)
        s.execute(update(Sample).where(Sample.id == 5).values(subject="\t=1+1"))
        s.execute(update(Sample).where(Sample.id == 6).values(subject="\r=1+1", source_path="\r=cmd"))
    with read_session() as s:
        export_dataset(s, 1, env / "out" / "labels.csv")
    with open(env / "out" / "labels.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 7 and _assert_no_formula(rows[1:]) >= 12
    subjects = [r[rows[0].index("subject")] for r in rows[1:]]
    assert subjects[:4] == ["'" + f for f in FORMULAS[:4]] and subjects[4:] == ["'\t=1+1", "'\r=1+1"]


# -- what the pages render -------------------------------------------------------------------------

def _problems(kind: str, source: str) -> list[str]:
    """Ways user text in one markdown source would not show literally."""
    out = []
    if re.search(r"(?<!\\)<[A-Za-z/!?]", source):
        out.append("raw HTML tag")
    if re.search(r"(?<!\\):[a-z]+\[|(?<!\\)\$", source):
        out.append("Streamlit colour/icon directive or maths")
    if re.search(r"(?i)https?://|www\.[a-z0-9]|[\w.+-]+@[\w-]+\.\w", source):
        out.append("GFM autolink")
    text = []
    for tok in MD.parse(source):
        for child in tok.children or []:
            if child.type in ("link_open", "image", "html_inline", "html_block"):
                out.append(f"{child.type} element")
            if child.type in ("text", "code_inline"):
                text.append(child.content)
    text = "".join(text).replace("\u2060", "")  # md's invisible word joiners stop GFM autolinks
    for marker, piece in PIECES.items():
        if marker in text and piece not in text:
            out.append(f"{piece!r} does not show literally")
    return [f"{kind} {source[:160]!r}: {p}" for p in out]


def _rendered_problems(at: AppTest) -> list[str]:
    assert not at.exception, at.exception
    found = []
    for kind in MARKDOWN:
        for el in at.get(kind):
            found += _problems(kind, str(getattr(el, "value", "") or ""))
    for kind in LABELLED:
        for el in at.get(kind):
            found += _problems(f"{kind} label", str(getattr(el, "label", "") or ""))
    for el in at.get("image"):  # image captions are markdown too
        found += [p for caption in el.captions for p in _problems("image caption", caption)]
    return found


@pytest.fixture
def hostile_store(env):
    """A dataset, subject, file name, annotators and a note made of HTML and markdown."""
    root = env / "in"
    write_image(root / f"{TAG}.png", 1)
    write_image(root / "b.png", 2)
    with open(root / "labels.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["image_path", "emotion", "valence", "arousal", "subject"])
        w.writerows([[f"{TAG}.png", "Happy", "0.1", "0.2", HOSTILE], ["b.png", "Sad", "0", "0", HOSTILE]])
    import_path("csv", root / "labels.csv", dataset=HOSTILE)
    photo = env / "photos" / f"{TAG} **BOLD** :red[RED] $x^2$ www.evil.example x@evil.example.jpg"
    photo.parent.mkdir()
    photo.write_bytes(asset_path("0-f15-hao-ph.jpg").read_bytes())  # one face: sample 3, with media
    import_path("images", photo, dataset=HOSTILE)
    with write_session() as s, s.begin():
        edit_label(s, 1, base_annotation_id=s.get(Sample, 1).cur_annotation_id, annotator=f"{TAG} **BOLD**",
                   emotion="Fear", note=HOSTILE)
    return env


def _app(page: str, **state) -> AppTest:
    import streamlit as st

    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=90)
    at.session_state["demo_ready"] = True  # no demo import: only the hostile store is shown
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    if page != "overview":
        at.switch_page(_page(page)).run()
    return at


def test_overview_shows_hostile_names_literally(hostile_store):
    assert _rendered_problems(_app("overview", annotator=HOSTILE)) == []


@pytest.mark.parametrize("sample_id", [1, 3])  # 3 has a source photo with a hostile file name
def test_browse_and_sample_detail_show_hostile_text_literally(hostile_store, sample_id):
    at = _app("browse", detail_id=sample_id)
    assert any(f"Sample #{sample_id}" in str(h.value) for h in at.subheader)  # the detail is shown
    if sample_id == 3:
        assert any("BOLD" in c for el in at.get("image") for c in el.captions)
    assert _rendered_problems(at) == []


def test_relabel_history_annotator_and_conflict_show_literally(hostile_store):
    at = _app("relabel", annotator=f"{TAG} **BOLD**", relabel_queue=[1])
    assert _rendered_problems(at) == []
    with write_session() as s, s.begin():  # somebody with a hostile name saves meanwhile
        edit_label(s, 1, base_annotation_id=s.get(Sample, 1).cur_annotation_id,
                   annotator="[CLICK](http://evil.example) **BOLD**", emotion="Sad")
    at.button(key="save").click().run()
    assert at.error and "was changed by" in at.error[0].value
    assert _rendered_problems(at) == []


def test_train_page_shows_hostile_dataset_name_literally(hostile_store):
    assert _rendered_problems(_app("train")) == []


def test_upload_shows_hostile_file_names_literally(hostile_store):
    at = _app("upload")
    at.file_uploader(key="upload_images").set_value([(f"{HOSTILE}.jpg", b"not an image", "image/jpeg")]).run()
    assert at.error and "not an image" in at.error[0].value
    assert _rendered_problems(at) == []


def test_upload_timeline_csv_neutralises_formulas(env, monkeypatch):
    """The downloaded timeline neutralises formulas, whatever text the model's classes carry."""
    import streamlit as st

    captured = {}
    real_button = st.download_button

    def fake_timeline(path, model, **kw):
        return pd.DataFrame([{"frame": i, "time_s": i / 10, "face": 0, "emotion": f, "confidence": 0.5,
                              "p_Happy": 0.5, "valence": -0.5, "arousal": 0.1, "stress": 0.2,
                              "va_source": "prior", "stress_source": "prior", "bbox": None}
                             for i, f in enumerate(FORMULAS)])

    def spy_button(label, data, *args, **kwargs):
        captured["csv"] = data
        return real_button(label, data, *args, **kwargs)

    monkeypatch.setattr("core.timeline.video_timeline", fake_timeline)
    monkeypatch.setattr(st, "download_button", spy_button)
    at = _app("upload")
    at.file_uploader(key="upload_video").set_value(("clip.mp4", asset_path("single_face.mp4").read_bytes(),
                                                     "video/mp4")).run()
    at.button(key="analyse").click().run()
    assert not at.exception, at.exception
    rows = list(csv.reader(captured["csv"].decode().splitlines(keepends=True)))
    assert len(rows) == 1 + len(FORMULAS) and _assert_no_formula(rows[1:]) >= len(FORMULAS)
