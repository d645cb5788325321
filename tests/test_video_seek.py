"""Keyframe seeking (core.video_seek through core.video and core.clips.sampling): frames reached by
a seek are the frames a decode from the start gives (index, time stamp, pixels), on generated H.264
videos with a known GOP (12 frames, B-frames), constant and variable frame rate; a seek that lands
after its target, or a stream that decodes otherwise than indexed, falls back to decoding from the start."""
from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import core.video as video_mod
from core.clips.sampling import SamplingRule, sample_spans
from core.video import VideoReader, read_frame
from core.video_seek import SeekMismatch, decode_wanted

GOP, FPS, FRAMES = 12, 24, 96


def _picture(i: int, w: int = 160, h: int = 96) -> np.ndarray:
    """A frame no other frame equals: a moving gradient and a bar whose place encodes i."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([(x * 2 + i * 5) % 256, (y * 3 + i * 7) % 256, ((x + y + i * 11) % 256)], -1).astype(np.uint8)
    img[4:12, (i * 3) % (w - 8):(i * 3) % (w - 8) + 8] = 255
    return img


def write_gop_video(path: Path, *, times: list[float] | None = None, frames: int = FRAMES) -> Path:
    """H.264 in mp4, a keyframe every GOP frames exactly (no scene-cut keyframes), B-frames; times:
    each frame's own time stamp in seconds (variable frame rate), else FPS frames per second."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS if times is None else 1000)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"preset": "veryfast", "g": str(GOP), "keyint_min": str(GOP), "sc_threshold": "0",
                          "bf": "3", "crf": "20"}
        if times is not None:
            stream.time_base = Fraction(1, 1000)
        for i in range(frames if times is None else len(times)):
            frame = av.VideoFrame.from_ndarray(_picture(i), format="bgr24")
            if times is not None:
                frame.pts, frame.time_base = int(round(times[i] * 1000)), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def gop_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gop_video(tmp_path_factory.mktemp("seek") / "gop12.mp4")


@pytest.fixture(scope="module")
def vfr_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    steps = np.random.default_rng(3).choice([0.02, 0.04, 0.05, 0.1, 0.25], size=80)
    return write_gop_video(tmp_path_factory.mktemp("seek") / "vfr.mp4", times=np.cumsum(steps).round(3).tolist())


def _all_frames(path: Path) -> list:
    with VideoReader(path) as reader:
        frames = list(reader.frames())
        assert reader.damage is None
    return frames


def test_the_packet_index_knows_every_frame_and_the_gop(gop_video):
    with VideoReader(gop_video) as reader:
        index = reader.packet_index()
    frames = _all_frames(gop_video)
    assert index is not None and len(index) == FRAMES == len(frames)
    assert index.keyframes.tolist() == list(range(0, FRAMES, GOP))
    assert index.seconds.tolist() == [f.seconds for f in frames]  # the very floats frame.time gives
    assert index.keyframe_before(GOP) == GOP and index.keyframe_before(GOP + 1) == GOP


@pytest.mark.parametrize("rows", [[0], [GOP], [GOP + 1], [2 * GOP - 1], [FRAMES - 1], [5, 40, 41, 77, 95],
                                  [0, 1, 2, 3, 30, 60, 90]])
def test_frames_reached_by_a_seek_equal_a_decode_from_the_start(gop_video, rows):
    frames = _all_frames(gop_video)
    with VideoReader(gop_video) as reader:
        got = list(reader.frames_at(rows))
    assert [f.index for f in got] == rows
    for f in got:
        assert f.seconds == frames[f.index].seconds
        assert np.array_equal(f.image, frames[f.index].image)


def _same_clips(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert type(x) is type(y)
        if isinstance(x, Exception):
            assert str(x) == str(y)
            continue
        assert x.frame_index.tolist() == y.frame_index.tolist()
        assert np.array_equal(x.seconds, y.seconds, equal_nan=True)
        assert all((i is None and j is None) or np.array_equal(i, j) for i, j in zip(x.images, y.images))
        assert x.damage == y.damage


def _seek_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the decode-from-start path of the sampler fail, so a result can only come by seeking."""
    def refuse(*args, **kwargs):
        raise AssertionError("decoded from the start")

    monkeypatch.setattr("core.clips.sampling._sample_decoded", refuse)


KEY_S = GOP / FPS  # the second keyframe's time


@pytest.mark.parametrize("start", [0.0, KEY_S, KEY_S + 1 / FPS, KEY_S + 0.3 / FPS, 1.37, 3.5, FRAMES / FPS - 0.3])
@pytest.mark.parametrize("rule", [SamplingRule.even(8), SamplingRule.at_fps(10.0)])
def test_a_clip_sampled_by_seeking_equals_one_decoded_from_the_start(gop_video, monkeypatch, start, rule):
    spans = [(start, min(start + 0.5, FRAMES / FPS)), (start, None)]
    before = sample_spans(gop_video, rule, spans, seek=False)
    _seek_only(monkeypatch)
    _same_clips(sample_spans(gop_video, rule, spans), before)


def test_far_apart_and_overlapping_windows_by_seeking(gop_video, monkeypatch):
    spans = [(3.0, 3.5), (0.1, 0.4), (0.2, 0.9), (2.0, 2.2), (1.0, 1.5), (3.9, 5.0), (6.0, 7.0)]
    before = sample_spans(gop_video, SamplingRule.even(6), spans, seek=False)
    _seek_only(monkeypatch)
    after = sample_spans(gop_video, SamplingRule.even(6), spans)
    _same_clips(after, before)
    assert isinstance(after[-1], ValueError)  # past the end: no frame, as before


def test_variable_frame_rate_by_seeking(vfr_video, monkeypatch):
    with VideoReader(vfr_video) as reader:
        assert reader.packet_index() is not None
        end = reader.info.declared_seconds
    spans = [(s, s + 0.6) for s in np.linspace(0, end - 0.6, 9).tolist()]
    for rule in (SamplingRule.even(5), SamplingRule.at_fps(8.0)):
        before = sample_spans(vfr_video, rule, spans, seek=False)
        with monkeypatch.context() as m:
            _seek_only(m)
            _same_clips(sample_spans(vfr_video, rule, spans), before)


class _LandsLate:
    """A container whose seek lands one GOP after the keyframe asked for (a bad container index)."""

    def __init__(self, container, stream):
        self._c, self._s = container, stream

    def seek(self, offset, **kwargs):
        self._c.seek(offset + int(GOP / FPS / self._s.time_base), **kwargs)

    def demux(self, *args):
        return self._c.demux(*args)


def test_a_seek_landing_after_its_target_is_refused(gop_video):
    with VideoReader(gop_video) as reader:
        index = reader.packet_index()
        late = _LandsLate(reader._container, reader._stream)
        with pytest.raises(SeekMismatch, match="landed"):
            list(decode_wanted(late, reader._stream, index, [GOP + 3]))


def test_a_failed_seek_falls_back_to_decoding_from_the_start(gop_video, monkeypatch):
    spans = [(1.0, 1.5), (3.0, 3.5)]
    before = sample_spans(gop_video, SamplingRule.even(6), spans, seek=False)
    real = video_mod.decode_wanted

    def one_then_mismatch(*args):
        gen = real(*args)
        yield next(gen)
        raise SeekMismatch("simulated")

    monkeypatch.setattr(video_mod, "decode_wanted", one_then_mismatch)
    _same_clips(sample_spans(gop_video, SamplingRule.even(6), spans), before)
    assert np.array_equal(read_frame(gop_video, 50), _all_frames(gop_video)[50].image)


def test_missing_time_stamps_are_never_seeked(gop_video, tmp_path, monkeypatch):
    """A raw H.264 stream's packets carry no time stamps: no index, every read decodes from the start."""
    raw = tmp_path / "raw.h264"
    subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-y", "-i", str(gop_video), "-c", "copy",
                    "-bsf:v", "h264_mp4toannexb", "-f", "h264", str(raw)], check=True)
    with VideoReader(raw) as reader:
        assert reader.packet_index() is None
    before = sample_spans(raw, SamplingRule.even(4), [(1.0, 2.0), (3.0, 3.5)], seek=False)
    assert not isinstance(before[0], Exception)

    def no_seek(*args):
        raise AssertionError("a seek without time stamps")

    monkeypatch.setattr(video_mod, "decode_wanted", no_seek)
    _same_clips(sample_spans(raw, SamplingRule.even(4), [(1.0, 2.0), (3.0, 3.5)]), before)
    assert np.array_equal(read_frame(raw, 50), _all_frames(raw)[50].image)


def test_read_frame_by_seeking_equals_the_decoded_frame(gop_video, monkeypatch):
    frames = _all_frames(gop_video)
    monkeypatch.setattr(VideoReader, "frames", lambda self: iter(()))  # only the seek can find it
    for i in (0, GOP, 61, FRAMES - 1):
        assert np.array_equal(read_frame(gop_video, i), frames[i].image)
    assert read_frame(gop_video, FRAMES) is None


def test_a_clip_near_the_start_indexes_only_the_frames_it_needs(gop_video, monkeypatch):
    from core.video import _INDEXES

    spans_early, spans_late = [(0.2, 0.7)], [(3.2, 3.7), (3.6, None)]
    before = [sample_spans(gop_video, SamplingRule.even(6), s, seek=False) for s in (spans_early, spans_late)]
    _INDEXES.clear()
    _seek_only(monkeypatch)
    _same_clips(sample_spans(gop_video, SamplingRule.even(6), spans_early), before[0])
    early = _INDEXES[str(gop_video)][1]
    assert early.until is not None and GOP < len(early) < FRAMES  # the file's tail was never read
    _same_clips(sample_spans(gop_video, SamplingRule.even(6), spans_late), before[1])
    assert _INDEXES[str(gop_video)][1].until is None and len(_INDEXES[str(gop_video)][1]) == FRAMES


@pytest.mark.parametrize("span", [(0.2, 0.7), (1.5, 2.5), (2.0, None)])
def test_a_cut_file_samples_as_it_did_before_seeking(gop_video, tmp_path, span):
    """A file cut short (moov in front): the damage and the frames are those of a decode from the start."""
    whole = tmp_path / "front.mp4"
    subprocess.run([shutil.which("ffmpeg"), "-v", "error", "-y", "-i", str(gop_video), "-c", "copy",
                    "-movflags", "+faststart", str(whole)], check=True)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[:int(len(data) * 0.6)])
    before = sample_spans(cut, SamplingRule.even(6), [span], seek=False)
    _same_clips(sample_spans(cut, SamplingRule.even(6), [span]), before)
    if span[1] is None:
        assert isinstance(before[0], ValueError) or before[0].damage  # the cut shows
