"""core.overlay on group photos: faces are numbered, probability panels keep off other faces."""
from __future__ import annotations

import numpy as np

from core.overlay import OverlayOptions, bars_size, draw_overlays, overlap_area, panel_origin
from tests.live.common import face

FRAME = (640, 480)  # width, height


def inside(origin: tuple[int, int], size: tuple[int, int]) -> bool:
    return 0 <= origin[0] <= FRAME[0] - size[0] and 0 <= origin[1] <= FRAME[1] - size[1]


def test_panel_goes_right_of_the_face_when_there_is_room():
    assert panel_origin((200, 150, 120, 120), (150, 112), FRAME) == (330, 150)


def test_panel_avoids_a_neighbour_on_the_right():
    me, neighbour = (100, 100, 100, 100), (215, 100, 100, 100)
    size = (150, 112)
    x, y = panel_origin(me, size, FRAME, [neighbour])
    panel = (x, y, *size)
    assert inside((x, y), size)
    assert overlap_area(panel, neighbour) == 0 and overlap_area(panel, me) == 0


def test_panel_uses_the_left_side_at_the_right_edge():
    me = (500, 100, 120, 120)
    x, y = panel_origin(me, (150, 112), FRAME)
    assert (x, y) == (500 - 10 - 150, 100)


def test_crowded_frame_picks_the_least_covering_spot():
    faces = [(x, y, 150, 150) for x in (0, 160, 320, 480) for y in (0, 160, 320)]
    me, others = faces[5], faces[:5] + faces[6:]
    size = (150, 112)
    x, y = panel_origin(me, size, FRAME, others)
    best = sum(overlap_area((x, y, *size), b) for b in [me, *others])
    naive = sum(overlap_area((me[0] + me[2] + 10, me[1], *size), b) for b in [me, *others])
    assert inside((x, y), size) and best <= naive


def row_of_faces() -> list:
    """Five faces side by side across the top half, like a group photo."""
    return [face(bbox=(float(20 + 120 * i), 60.0, 100.0, 100.0), emotion=e)
            for i, e in enumerate(("Happy", "Sad", "Happy", "Surprise", "Anger"))]


def test_bars_never_cover_a_face_in_a_group_photo():
    preds = row_of_faces()
    img = np.full((FRAME[1], FRAME[0], 3), 40, np.uint8)
    out = draw_overlays(img.copy(), preds, OverlayOptions(box=False, label=False, bars=True,
                                                           circumplex=False, stress=False))
    changed = np.any(out != img, axis=-1)
    assert changed.sum() > 5 * bars_size(preds[0])[0]  # every face got its panel
    for p in preds:
        x, y, w, h = (int(v) for v in p.bbox)
        assert not changed[y:y + h, x:x + w].any(), p.bbox


def test_faces_are_numbered_when_there_are_several():
    preds = row_of_faces()
    opts = OverlayOptions(box=True, label=True, circumplex=False, stress=False)
    blank = np.full((FRAME[1], FRAME[0], 3), 40, np.uint8)
    numbered = draw_overlays(blank.copy(), preds, opts)
    plain = draw_overlays(blank.copy(), preds, OverlayOptions(box=True, label=True, numbers=False,
                                                              circumplex=False, stress=False))
    for p in preds:  # the label above each box reads "N: Emotion NN%" instead of "Emotion NN%"
        x, y = int(p.bbox[0]), int(p.bbox[1])
        region = (slice(y - 30, y), slice(x, x + 100))
        assert not np.array_equal(numbered[region], plain[region]), p.bbox
    # labels off: a number badge inside each box's top-left corner
    badge = draw_overlays(blank.copy(), preds, OverlayOptions(box=True, label=False, circumplex=False,
                                                             stress=False))
    no_badge = draw_overlays(blank.copy(), preds, OverlayOptions(box=True, label=False, numbers=False,
                                                                circumplex=False, stress=False))
    for p in preds:
        x, y = int(p.bbox[0]), int(p.bbox[1])
        assert not np.array_equal(badge[y:y + 30, x:x + 30], no_badge[y:y + 30, x:x + 30])
    one = [face()]  # a single face needs no number
    assert np.array_equal(draw_overlays(blank.copy(), one, opts),
                          draw_overlays(blank.copy(), one, OverlayOptions(
                              box=True, label=True, numbers=False, circumplex=False, stress=False)))


def test_panel_keeps_off_labels_and_earlier_panels_when_it_can():
    me, size = (200, 150, 120, 120), (150, 112)
    taken = (330, 150, 150, 112)  # another face's panel already on the right
    x, y = panel_origin(me, size, FRAME, soft=[taken])
    assert overlap_area((x, y, *size), taken) == 0 and overlap_area((x, y, *size), me) == 0
    # a face outweighs a label: with only a face-covering spot or a label-covering one, the label loses
    left_face = (0, 150, 185, 120)
    x, y = panel_origin(me, size, FRAME, [left_face], soft=[taken, (200, 275, 150, 150), (200, 0, 150, 140)])
    assert overlap_area((x, y, *size), left_face) == 0
