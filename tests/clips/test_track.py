"""One tracked face per clip: IoU linking, the largest persistent track, masked faceless slots."""
from __future__ import annotations

import numpy as np

from core.clips.sampling import SamplingRule, sample_clip
from core.clips.track import clip_faces, link_tracks, track_faces
from core.faces.crop import CANONICAL_SIZE
from core.faces.types import Face


def _face(x: float, y: float, side: float) -> Face:
    return Face((x, y, side, side), 0.9, np.zeros((5, 2), np.float32))


def test_linking_follows_moving_boxes_across_a_short_gap():
    big = [[_face(100 + 5 * i, 50, 100)] if i != 3 else [] for i in range(8)]
    small = [[_face(400, 20 + 40 * i, 30)] for i in range(8)]  # jumps: never overlaps itself
    detections = [b + s for b, s in zip(big, small)]
    tracks = link_tracks(detections)
    best = max(tracks, key=lambda t: t.weight)
    assert sorted(best.faces) == [0, 1, 2, 4, 5, 6, 7]  # one track through the missed slot 3
    assert len(tracks) == 1 + 8  # each small box starts its own track


def test_a_gap_longer_than_max_gap_starts_a_new_track():
    detections = [[_face(100, 100, 80)], [], [], [], [], [_face(100, 100, 80)]]
    assert len(link_tracks(detections, max_gap=3)) == 2
    assert len(link_tracks(detections, max_gap=4)) == 1


def test_faceless_frames_are_masked_not_invented(clips, pipeline):
    faces = clip_faces(clips["tone"], SamplingRule.even(16), pipeline)
    frames = faces.sampled.frame_index
    faceless = (frames >= 20) & (frames < 30)
    assert faceless.any()
    assert not faces.mask[faceless].any() and faces.mask[~faceless].all()
    assert faces.crops.shape == (16, CANONICAL_SIZE, CANONICAL_SIZE, 3)
    assert not faces.crops[~faces.mask].any()  # zeros where masked
    assert all(faces.crops[i].std() > 10 for i in np.flatnonzero(faces.mask))
    assert np.isnan(faces.boxes[~faces.mask]).all() and np.isfinite(faces.boxes[faces.mask]).all()
    assert faces.tracks == 1 and 0.5 < faces.coverage < 1.0


def test_the_largest_persistent_face_is_kept(clips, pipeline):
    faces = clip_faces(clips["two"], SamplingRule.even(8), pipeline)
    assert faces.tracks == 2 and faces.mask.all()
    boxes = faces.boxes
    assert (boxes[:, 2] > 200 * 0.45).all()  # the 220 px face, not the 120 px one
    assert (np.diff(boxes[:, 0]) > 0).all()  # one identity drifting right, slot after slot


def test_a_video_without_faces_is_all_masked(clips, pipeline):
    faces = track_faces(sample_clip(clips["noface"], SamplingRule.even(8)), pipeline)
    assert faces.tracks == 0 and not faces.mask.any() and faces.coverage == 0.0
