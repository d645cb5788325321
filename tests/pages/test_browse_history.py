"""AppTest of Browse's detail history: an undo row says what it undid and what it brought back."""
from __future__ import annotations

from core.store.db import write_session
from core.store.labels import edit_label, undo_last
from core.store.models import Sample


def _head(s, sample_id: int) -> int | None:
    return s.get(Sample, sample_id).cur_annotation_id


def test_undo_rows_show_what_they_restored_not_empty_values(app):
    with write_session() as s, s.begin():
        fear = edit_label(s, 7, base_annotation_id=_head(s, 7), annotator="ana", emotion="Fear")
        sad = edit_label(s, 7, base_annotation_id=_head(s, 7), annotator="ana", emotion="Sad",
                         note="looked sad")
        undo_last(s, 7, base_annotation_id=_head(s, 7), annotator="ana")
        fear_id, sad_id = fear.id, sad.id
    at = app("browse")
    at.sidebar.multiselect(key="f_source").set_value(["human"]).run()
    at.button(key="browse-open-7").click().run()
    assert not at.exception, at.exception
    history = at.dataframe[0].value
    assert {"before", "after", "note"} <= set(history.columns)
    undo, edit = history.iloc[0], history.iloc[1]
    assert undo["after"].startswith(f"undo of #{sad_id} (restored emotion Fear")
    assert undo["before"] == "—" and "None" not in undo["after"]
    assert "emotion Sad" in edit["after"] and edit["note"] == "looked sad"
    assert "emotion Fear" in history.iloc[2]["after"] and fear_id < sad_id
