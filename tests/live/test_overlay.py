"""core.overlay: each drawer paints where expected, toggles work, priors are marked."""
from __future__ import annotations

import numpy as np
import pytest

from core.overlay import (
    ACCENT,
    INSET,
    MARGIN,
    OverlayOptions,
    circumplex_point,
    draw_circumplex,
    draw_overlays,
    draw_stress,
    emotion_text,
    stress_color,
    stress_text,
    va_text,
)
from tests.live.common import face

NONE = OverlayOptions(box=False, label=False, bars=False, circumplex=False, stress=False)


def blank(h: int = 480, w: int = 640) -> np.ndarray:
    return np.full((h, w, 3), 40, np.uint8)


def is_accent(pixels: np.ndarray) -> np.ndarray:
    return np.all(pixels == np.array(ACCENT, np.uint8), axis=-1)


def test_box_is_drawn_on_the_face_edges_only():
    img = draw_overlays(blank(), [face()], OverlayOptions(box=True, label=False, circumplex=False, stress=False))
    x, y, w, h = 200, 150, 120, 120
    assert is_accent(img[y + h // 2, x - 1:x + 2]).any()  # left edge
    assert is_accent(img[y + h // 2, x + w - 1:x + w + 2]).any()  # right edge
    assert is_accent(img[y - 1:y + 2, x + w // 2]).any()  # top edge
    assert not is_accent(img[y + 20:y + h - 20, x + 20:x + w - 20]).any()  # inside stays clear
    assert is_accent(img).sum() == is_accent(img[y - 3:y + h + 3, x - 3:x + w + 3]).sum()


def test_every_overlay_off_leaves_the_frame_untouched():
    img = blank()
    assert np.array_equal(draw_overlays(img.copy(), [face()], NONE), img)
    assert np.array_equal(draw_overlays(img.copy(), [], OverlayOptions()), img)  # no face: nothing


def test_label_sits_above_the_box_and_bars_beside_it():
    img = draw_overlays(blank(), [face()], OverlayOptions(box=False, label=True, circumplex=False, stress=False))
    assert is_accent(img[125:150, 200:300]).sum() > 200  # filled label background above the box
    assert not is_accent(img[150:]).any()
    img = draw_overlays(blank(), [face()], OverlayOptions(box=False, label=False, bars=True,
                                                          circumplex=False, stress=False))
    # 8 bars from x = 330, one 14 px row per class; the top class (Happy, row 1) is accent
    top_row = img[150 + 14:150 + 14 + 11, 330:330 + 72]
    assert is_accent(top_row).mean() > 0.9
    assert not is_accent(img[150:150 + 11, 330:420]).any()  # Neutral: gray bar


@pytest.mark.parametrize("v, a", [(0.8, 0.5), (-0.7, -0.6), (0.0, 0.9)])
def test_circumplex_point_lands_in_the_right_quadrant(v, a):
    img = draw_circumplex(blank(), [face(va=(v, a), prior=False)])
    ox, oy = 640 - INSET - MARGIN, 480 - INSET - MARGIN - 16
    px, py = circumplex_point(v, a, origin=(ox, oy))
    assert is_accent(img[py - 2:py + 3, px - 2:px + 3]).all()  # trained: a filled dot
    cx, cy = ox + INSET / 2, oy + INSET / 2
    assert np.sign(px - cx) == np.sign(v) and np.sign(cy - py) == np.sign(a)


def test_priors_are_marked_in_text_and_drawn_hollow():
    prior, trained = face(prior=True), face(prior=False)
    assert va_text(prior) == "V/A (prior)" and va_text(trained) == "V/A"
    assert stress_text(prior) == "Stress (prior) 0.20" and stress_text(trained) == "Stress 0.20"
    assert emotion_text(trained) == "Happy 80%"
    untrained = face()
    untrained.flags["emotion"] = "untrained"
    assert emotion_text(untrained) == "Happy 80% (untrained)"
    ox, oy = 640 - INSET - MARGIN, 480 - INSET - MARGIN - 16
    px, py = circumplex_point(0.6, 0.4, origin=(ox, oy))
    hollow = draw_circumplex(blank(), [prior])
    filled = draw_circumplex(blank(), [trained])
    assert is_accent(filled[py, px]) and not is_accent(hollow[py, px])  # hollow centre
    assert is_accent(hollow[py - 6:py + 7, px - 6:px + 7]).any()  # but a ring around it
    # the caption under the inset differs ("V/A (prior)" is longer)
    caption = slice(oy + INSET, oy + INSET + 20), slice(ox, 640)
    assert not np.array_equal(hollow[caption], filled[caption])


def test_stress_gauge_fills_in_proportion_and_colour():
    h = 480
    y = h - MARGIN - 6
    low = draw_stress(blank(), face(stress=0.25, prior=False))
    high = draw_stress(blank(), face(stress=0.9, prior=False))

    def filled(img: np.ndarray) -> int:  # coloured (not gray or black) pixels along the gauge
        row = img[y, MARGIN:MARGIN + 121].astype(int)
        return int((row.max(axis=1) - row.min(axis=1) > 60).sum())

    assert filled(high) > filled(low) + 60
    assert stress_color(0.0) == (0, 255, 0) and stress_color(1.0) == (0, 0, 255)
    prior = draw_stress(blank(), face(stress=0.9, prior=True))
    assert filled(prior) < filled(high)  # outlined, not filled


def test_tiny_frames_do_not_crash():
    img = draw_overlays(blank(60, 80), [face(bbox=(10, 10, 30, 30))], OverlayOptions(bars=True))
    assert img.shape == (60, 80, 3)
