"""Media that lie or are damaged never pass as data: cut and corrupted videos are reported as
damaged (refused, or flagged with --skip-invalid), lying headers never drive an allocation,
audio-only and empty files get a clear error, variable frame rate follows real time stamps,
phone rotation is applied. Generated variants of each (ffmpeg / PyAV / patched AVI headers)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import func, select

from core.ingest import ImportFailed, import_path
from core.store.db import read_session
from core.store.models import Sample
from core.video import VideoError, VideoReader, iter_video_frames
from tests.reliability import videos
from tests.reliability.corpus import REPORT

CUTS = (0.2, 0.35, 0.5, 0.65, 0.8, 0.95)


def _samples() -> int:
    with read_session() as s:
        return s.scalar(select(func.count()).select_from(Sample))


def _refused_as_damaged(path, cls: str, *, options=None) -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        import_path("video", path, dataset="v", options=options or {})
    errors = info.value.report.errors
    assert errors and all(e.field == "video" and "\n" not in e.reason for e in errors), errors
    assert _samples() == 0
    REPORT.record(cls, clear_error=True)
    return info.value


@pytest.mark.parametrize("cut", CUTS)
def test_cut_video_is_refused_or_flagged(env, cut):
    data = videos.face_mp4(env).read_bytes()
    path = env / f"cut{int(cut * 100)}.mp4"
    path.write_bytes(data[:int(len(data) * cut)])
    failed = _refused_as_damaged(path, "truncated video")
    assert any("damaged" in e.reason or "cannot open" in e.reason for e in failed.report.errors)
    report = import_path("video", path, dataset="v", skip_invalid=True)
    with read_session() as s:
        flags = list(s.scalars(select(Sample.flag)))
    assert len(flags) == report.added and all(f and "damaged video" in f for f in flags)


@pytest.mark.parametrize("seed", range(14))
def test_corrupt_bytes_the_decoder_notices_are_reported(env, seed):
    rng = np.random.default_rng(seed)
    data = bytearray(videos.face_mp4(env).read_bytes())
    at = int(len(data) * (0.1 + 0.8 * rng.random()))
    data[at:at + 400] = rng.bytes(400)
    path = env / f"corrupt{seed}.mp4"
    path.write_bytes(bytes(data))
    with VideoReader(path) as reader:
        n = sum(1 for _ in reader.frames())
        damage = reader.damage
    if videos.ffmpeg_errors(path):  # ffmpeg itself sees damage: so must we
        assert damage, (seed, at)
        with pytest.raises(VideoError, match="corrupt|truncated"):
            list(iter_video_frames(path))  # predict / Upload say so too
        REPORT.record("corrupt video bytes", clear_error=True)
    else:  # bytes in the audio track or undetectable by any decoder: the frames all decode
        assert damage is None and n == 72, (seed, at, damage, n)
        REPORT.record("corrupt video bytes")


def test_corrupt_video_import_is_refused(env):
    data = bytearray(videos.face_mp4(env).read_bytes())
    data[154585:154985] = np.random.default_rng(2).bytes(400)  # inside a video packet
    path = env / "corrupt.mp4"
    path.write_bytes(bytes(data))
    assert videos.ffmpeg_errors(path)
    _refused_as_damaged(path, "corrupt video bytes")


@pytest.mark.parametrize("declared", [2**31, 2**31 - 1, 2**32 - 1, 10**9, 100_000])
@pytest.mark.parametrize("frames_option", [None, 4])
def test_lying_frame_count_never_drives_allocation(env, declared, frames_option):
    path = videos.patch_avi(videos.mjpeg_avi(env / "lie.avi"), total_frames=declared)
    t0 = time.perf_counter()
    with VideoReader(path) as reader:
        assert reader.info.declared_frames == declared
        got = [f.index for f in reader.sample(fps=None if frames_option else 5, frames=frames_option)]
        assert reader.decoded == 12 and reader.damage and "declared" in reader.damage
    assert got and max(got) < 12
    _refused_as_damaged(path, "lying video header", options={"frames": frames_option} if frames_option else None)
    assert time.perf_counter() - t0 < 20


@pytest.mark.parametrize("size", [(60000, 60000), (65535, 40000), (20000, 20000), (9000, 7000)])
def test_huge_declared_resolution_never_allocates(env, size):
    """An AVI header that declares a huge size is ignored (the real frames are decoded at their
    size); frames whose own headers declare it are damage; above the cap nothing is decoded."""
    t0 = time.perf_counter()
    path = videos.patch_avi(videos.mjpeg_avi(env / "huge.avi"), size=size)
    try:
        with VideoReader(path) as reader:
            shapes = {f.image.shape for f in reader.frames()}
            # decoded at the frames' real size, or (when FFmpeg keeps the lie) nothing and damage
            assert (shapes == {(48, 64, 3)} and reader.damage is None) or (not shapes and reader.damage)
    except VideoError as exc:
        assert "too large" in str(exc) or "cannot open" in str(exc)
    with pytest.raises(VideoError, match="too large"):
        VideoReader(path, max_pixels=64 * 48 - 1)
    bomb = videos.jpeg_bomb_video(env / "bomb.mkv", size)
    with VideoReader(bomb) as reader:
        assert list(reader.frames()) == [] and reader.damage
    _refused_as_damaged(bomb, "huge declared resolution")
    assert time.perf_counter() - t0 < 10


def _audio_only(env, kind: str):
    if kind == "aac in mp4":
        videos.ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(env / "a.mp4"))
        return env / "a.mp4"
    if kind == "wav named mp4":
        videos.ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-f", "wav", str(env / "w.mp4"))
        return env / "w.mp4"
    videos.ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "pcm_s16le", str(env / "p.avi"))
    return env / "p.avi"


@pytest.mark.parametrize("kind", ["zero bytes", "aac in mp4", "wav named mp4", "pcm in avi", "one byte"])
def test_empty_and_audio_only_files_get_one_clear_error(env, kind):
    if kind in ("zero bytes", "one byte"):
        path = env / "empty.mp4"
        path.write_bytes(b"" if kind == "zero bytes" else b"\x00")
    else:
        path = _audio_only(env, kind)
    with pytest.raises(VideoError) as info:
        list(iter_video_frames(path))
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    failed = _refused_as_damaged(path, "empty or audio-only video")
    assert any("no video stream" in e.reason or "cannot open" in e.reason for e in failed.report.errors)


@pytest.mark.parametrize("seed", range(5))
def test_variable_frame_rate_is_sampled_by_real_time_stamps(env, seed):
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.choice([0.02, 0.04, 0.1, 0.3, 0.7], size=40)).round(3).tolist()
    path = videos.vfr_video(env / f"vfr{seed}.mkv", times)
    with VideoReader(path) as reader:
        got = [(f.index, f.seconds) for f in reader.sample(fps=2)]
        assert reader.damage is None
    want, next_t = [], 0.0
    for k, t in enumerate(times):  # first frame at or after each half second, by its own time
        if t + 1e-6 >= next_t:
            want.append((k, t))
            next_t = (np.floor(t / 0.5 + 1e-6) + 1) * 0.5
    assert [i for i, _ in got] == [i for i, _ in want]
    assert all(abs(a - b) < 1e-3 for (_, a), (_, b) in zip(got, want))
    REPORT.record("variable frame rate")


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_phone_rotation_is_applied(env, degrees):
    source = videos.face_mp4(env)
    path = videos.rotated(source, env / f"rot{degrees}.mp4", degrees)
    want = videos.first_frame_by_ffmpeg(path, env / f"rot{degrees}.png")
    with VideoReader(path) as reader:
        got = next(reader.frames()).image
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.abs(got.astype(int) - want.astype(int)).mean() < 3
    report = import_path("video", path, dataset=f"r{degrees}", options={"frames": 3})
    assert report.added >= 3  # the face is found upright
    REPORT.record("rotated phone video")


CLEAN = {  # (container, ffmpeg output options): clean encodes that must not be called damaged
    "h264 mp4": ("mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
    "h264 mp4, audio 1 s longer": ("mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]),
    "mpeg4 avi": ("avi", ["-c:v", "mpeg4"]),
    "mjpeg mov": ("mov", ["-c:v", "mjpeg"]),
    "vp8 webm": ("webm", ["-c:v", "libvpx", "-b:v", "200k"]),
    "h264 mkv with audio": ("mkv", ["-c:v", "libx264", "-c:a", "aac"]),
}


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_clean_videos_are_not_called_damaged(env, name):
    ext, opts = CLEAN[name]
    audio = ["-f", "lavfi", "-i", "sine=duration=3"] if "-c:a" in opts else []
    path = env / f"clean.{ext}"
    videos.ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=15:duration=2", *audio, *opts, str(path))
    with VideoReader(path) as reader:
        n = sum(1 for _ in reader.frames())
        assert reader.damage is None and n == 30, (n, reader.damage)
    REPORT.record("clean video (no false damage)")


@pytest.mark.parametrize("name", ["single_face.mp4", "no_face.mp4", "face_noface.mov", "noface_face.mov",
                                  "WolfgangLanger_Pexels.mp4"])
def test_real_asset_videos_are_not_called_damaged(name):
    from core.assets import asset_path

    with VideoReader(asset_path(name)) as reader:
        assert sum(1 for _ in reader.frames()) > 0 and reader.damage is None
