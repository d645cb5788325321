"""ui.charts: one emotion palette by concept, the circumplex frame, selection readers, plurals."""
from __future__ import annotations

from ui.charts import (
    NONE_COLOUR,
    cell_from_selection,
    class_balance_figure,
    confusion_figure,
    emotion_colour,
    plural,
    selected_ids,
    va_scatter_figure,
)


def test_one_colour_per_emotion_concept():
    assert emotion_colour("Anger") == emotion_colour("Angry") == emotion_colour("anger")
    assert emotion_colour("Happy") != emotion_colour("Sad")
    assert emotion_colour(None) == emotion_colour("none") == NONE_COLOUR
    assert emotion_colour("Bored") == emotion_colour("Bored")  # custom classes: stable too
    bars = class_balance_figure({"train": {"Happy": 2, "none": 1}}, ["Happy", "Sad"])["data"]
    assert {b["name"]: b["marker"]["color"] for b in bars}["Happy"] == emotion_colour("Happy")


def test_va_scatter_is_a_circumplex_with_visible_overlaps():
    fig = va_scatter_figure([(1, 0.5, 0.5, "Happy"), (2, 0.5, 0.5, "Happy"), (3, -0.2, 0.1, None)])
    layout = fig["layout"]
    assert layout["xaxis"]["range"] == [-1.05, 1.05] == layout["yaxis"]["range"]
    assert layout["yaxis"]["scaleanchor"] == "x"
    points = [t for t in fig["data"] if t.get("mode") == "markers"]
    assert all(t["marker"]["opacity"] < 1 for t in points)
    assert {t["name"] for t in points} == {"Happy", "unlabelled"}
    circle = next(t for t in fig["data"] if t.get("mode") == "lines")
    assert len(circle["x"]) > 100 and abs(max(circle["x"]) - 1) < 1e-9
    assert {a["text"] for a in layout["annotations"]} >= {"pleasant · activated", "unpleasant · deactivated"}


def test_confusion_cells_are_selectable_points_and_read_back():
    fig = confusion_figure([[3, 1], [0, 2]], ["Happy", "Sad"])
    trace = fig["data"][0]
    assert trace["type"] == "scatter" and trace["marker"]["symbol"] == "square"
    assert fig["layout"]["clickmode"] == "event+select"
    assert trace["customdata"][1] == ["Happy", "Sad", 1] and "1 sample<" in trace["hovertext"][1] + "<"
    assert cell_from_selection({"selection": {"points": [{"customdata": ["Sad", "Happy", 0]}]}}) == ("Sad", "Happy")
    assert cell_from_selection({"selection": {"points": [{"x": "Sad", "y": "Happy"}]}}) == ("Happy", "Sad")
    assert cell_from_selection({"selection": {"points": []}}) is None and cell_from_selection(None) is None


def test_selected_ids_and_plural():
    assert selected_ids({"selection": {"points": [{"customdata": [4]}, {"x": 1}, {"customdata": [9]}]}}) == [4, 9]
    assert selected_ids(None) == []
    assert plural(1, "sample") == "1 sample" and plural(0, "sample") == "0 samples"
    assert plural(12345, "face") == "12,345 faces"
