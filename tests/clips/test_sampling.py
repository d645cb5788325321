"""The sampling rule and the sampler: slot times, nearest real frames, empty slots past the stream."""
from __future__ import annotations

import numpy as np
import pytest

from core.clips.sampling import SamplingRule, sample_clip
from core.video import VideoError


def test_even_rule_centres_n_slots_over_the_span():
    t = SamplingRule.even(4).times(1.0, 3.0)
    assert np.allclose(t, [1.25, 1.75, 2.25, 2.75])


def test_fps_rule_steps_and_cap():
    assert np.allclose(SamplingRule.at_fps(2).times(0.0, 2.0), [0.0, 0.5, 1.0, 1.5])
    assert len(SamplingRule.at_fps(10, max_frames=5).times(0.0, 10.0)) == 5


@pytest.mark.parametrize("bad", [{"mode": "random"}, {"frames": 0}, {"frames": 2.5},
                                 {"mode": "fps", "fps": None}, {"mode": "fps", "fps": -1.0}])
def test_rule_refuses_bad_settings(bad):
    with pytest.raises(ValueError):
        SamplingRule(**bad)


def test_rule_round_trips_and_refuses_an_empty_span():
    rule = SamplingRule.at_fps(5.0, max_frames=30)
    assert SamplingRule.from_dict(rule.to_dict()) == rule
    with pytest.raises(ValueError, match="after its start"):
        rule.times(2.0, 2.0)


@pytest.mark.parametrize("n", [16, 30])
def test_even_sampling_picks_the_nearest_real_frame(clips, n):
    s = sample_clip(clips["tone"], SamplingRule.even(n))
    assert len(s) == n and s.present.all() and s.damage is None
    assert s.end == pytest.approx(2.0, abs=0.05)
    assert np.all(np.abs(s.seconds - s.targets) <= 0.5 / 24 + 1e-6)  # within half a frame
    assert np.all(np.diff(s.frame_index) >= 0)
    assert all(img.shape == (360, 640, 3) for img in s.images)


def test_sub_range_and_fixed_fps(clips):
    s = sample_clip(clips["tone"], SamplingRule.at_fps(4.0), start=0.5, end=1.5)
    assert len(s) == 4
    assert np.all((s.seconds >= 0.5 - 1 / 24) & (s.seconds <= 1.5))
    assert list(s.frame_index) == [12, 18, 24, 30]


def test_slots_past_the_end_of_the_stream_stay_empty(clips):
    s = sample_clip(clips["tone"], SamplingRule.even(8), end=4.0)  # the video lasts 2 s
    assert s.present[:4].all() and not s.present[4:].any()
    assert all(img is None for img in s.images[4:]) and np.isnan(s.seconds[4:]).all()


def test_unreadable_video_and_a_range_without_frames(clips, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(VideoError, match="bad.mp4"):
        sample_clip(bad)
    with pytest.raises(VideoError, match="no frame decoded"):
        sample_clip(clips["tone"], SamplingRule.even(4), start=10.0, end=11.0)


def test_several_windows_in_one_pass_match_one_at_a_time(clips):
    from core.clips.sampling import sample_spans

    spans = [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0), (5.0, 6.0)]
    together = sample_spans(clips["tone"], SamplingRule.even(8), spans)
    for (start, end), clip in zip(spans[:3], together):
        alone = sample_clip(clips["tone"], SamplingRule.even(8), start=start, end=end)
        assert clip.frame_index.tolist() == alone.frame_index.tolist()
        assert all(np.array_equal(a, b) for a, b in zip(clip.images, alone.images))
    assert isinstance(together[3], VideoError) and "5.00 s" in str(together[3])
