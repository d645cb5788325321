"""core.clips.strip on imported generated clips: the strip is the stored crop stack slot by slot
(masked slots the grey "no face" tile, never a face), timed by the sampling rule; the segment a
player plays, and the exact H.264/AAC cut of a source a browser cannot play."""
from __future__ import annotations

import dataclasses
import io

import av
import numpy as np
import pytest

from core.clips.strip import (
    ClipSegment,
    StripError,
    clip_segment,
    clip_strip,
    clip_summaries,
    no_face_tile,
    segment_mp4,
)
from core.store.clips import get_clip
from tests.clips.clipstore import FRAMES, MASKED, seed_clip_store


@pytest.fixture
def stored(env, read):
    ids = seed_clip_store(env)
    with read() as s:
        return {name: get_clip(s, sid) for name, sid in ids.items()}


def test_strip_is_the_crop_stack_with_masked_slots_grey(stored):
    tone = stored["tone.mp4"]
    frames = clip_strip(tone)
    stack = tone.crops()
    assert len(frames) == FRAMES and [f.slot for f in frames] == list(range(FRAMES))
    assert [f.slot for f in frames if f.masked] == MASKED
    tile = no_face_tile(stack.shape[1])
    for f in frames:
        if f.masked:
            assert np.array_equal(f.image, tile) and not stack[f.slot].any()  # nothing invented
        else:
            assert np.array_equal(f.image, stack[f.slot]) and f.image.std() > 20  # a real face crop
    assert [round(f.seconds, 3) for f in frames] == [0.125 + 0.25 * k for k in range(FRAMES)]
    assert [f.frame_index for f in frames] == tone.frame_indices


def test_no_face_tile_is_grey_with_its_words():
    tile = no_face_tile(112)
    assert tile.shape == (112, 112, 3) and tile.dtype == np.uint8
    assert np.median(tile) == 128 and (tile == 255).any()  # grey, with white text
    assert np.array_equal(tile[..., 0], tile[..., 2])  # no colour: not a face


def test_a_missing_or_mismatched_crop_stack_is_a_named_error(stored, env):
    tone = stored["tone.mp4"]
    with pytest.raises(StripError, match="clip_crops/gone.npy cannot be read"):
        clip_strip(dataclasses.replace(tone, crops_path="clip_crops/gone.npy"))
    np.save(env / "data" / "short.npy", tone.crops()[:3])
    with pytest.raises(StripError, match=r"short.npy holds \(3, 112, 112, 3\) uint8, expected \(8, S, S, 3\)"):
        clip_strip(dataclasses.replace(tone, crops_path="short.npy"))
    with pytest.raises(StripError, match="not a path inside the data dir"):
        clip_strip(dataclasses.replace(tone, crops_path="../../etc/passwd"))


def test_segment_for_the_player(stored):
    tone, silent, avi = (clip_segment(stored[k]) for k in ("tone.mp4", "silent.mp4", "cut.avi"))
    assert tone.path.is_file() and (tone.start, tone.end, tone.has_audio) == (0.0, 2.0, True)
    assert tone.direct and tone.player_range() == (0, 2)
    assert (silent.start, silent.end, silent.has_audio) == (0.5, 1.5, False) and silent.player_range() == (0, 2)
    assert not avi.direct and avi.path.suffix == ".avi"  # a browser cannot play MPEG-4 in AVI
    gone = clip_segment(dataclasses.replace(stored["tone.mp4"], media_path="media/xx/gone.mp4"))
    assert gone.path is None and gone.why == "source video media/xx/gone.mp4 is missing from the data dir"
    assert ClipSegment(1, None, 1.2, 3.4, False).player_range() == (1, 4)


def _streams(data: bytes) -> tuple[int, float, str | None]:
    """(video frames, seconds of video, audio codec) of an mp4 in memory."""
    with av.open(io.BytesIO(data)) as c:
        audio = c.streams.audio[0].codec_context.name if c.streams.audio else None
        frames = [f for f in c.decode(video=0)]
    return len(frames), float(frames[-1].time - frames[0].time), audio


def test_segment_cut_is_the_exact_range_with_its_audio(stored):
    n, seconds, audio = _streams(segment_mp4(clip_segment(stored["cut.avi"])))  # 24 frames at 24 fps
    assert n == 24 and seconds == pytest.approx(23 / 24, abs=0.01) and audio == "aac"
    silent = clip_segment(stored["silent.mp4"])  # 0.5-1.5 s of 48 frames at 24 fps, no audio
    n, seconds, audio = _streams(segment_mp4(silent))
    assert n == 24 and audio is None
    with pytest.raises(StripError, match="missing"):
        segment_mp4(clip_segment(dataclasses.replace(stored["tone.mp4"], media_path="media/xx/gone.mp4")))


def test_clip_summaries_only_for_clips(stored, read):
    ids = [c.sample_id for c in stored.values()]
    with read() as s:
        got = clip_summaries(s, [*ids, 999])
    assert set(got) == set(ids)
    tone = got[stored["tone.mp4"].sample_id]
    assert (tone.frames, tone.seconds, tone.masked, tone.has_audio) == (FRAMES, 2.0, 2, True)
    assert got[stored["silent.mp4"].sample_id].has_audio is False
