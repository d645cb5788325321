"""core.audio: PyAV decoding and resampling, librosa MFCC / log-mel images, masked when there is no audio."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.audio import AudioParams, clip_audio, decode_audio, features, fit_width
from tests.clips.clipgen import tone, write_clip


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("audio")
    return {"low": write_clip(root / "low.mp4", frames=48, audio_hz=440.0, audio_rate=44100),
            "high": write_clip(root / "high.mp4", frames=48, audio_hz=2000.0),
            "none": write_clip(root / "none.mp4", frames=12, audio_hz=None),
            "avi": write_clip(root / "tone.avi", frames=24, audio_hz=440.0, codec="mpeg4")}


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def test_decode_resamples_to_mono_at_the_asked_rate(media):
    samples, why = decode_audio(media["low"], sample_rate=16000)  # stored at 44.1 kHz
    assert why is None and samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) / 16000 == pytest.approx(2.0, abs=0.1)
    assert _peak_hz(samples[4000:20000], 16000) == pytest.approx(440, abs=5)
    avi, _ = decode_audio(media["avi"], sample_rate=8000)
    assert _peak_hz(avi[1000:6000], 8000) == pytest.approx(440, abs=5)


def test_decode_trims_to_the_clip_range(media):
    samples, _ = decode_audio(media["high"], start=0.5, end=1.25, sample_rate=16000)
    assert len(samples) == 12000


def test_mfcc_images_tell_two_tones_apart(media):
    params = AudioParams(width=150)
    low, high = clip_audio(media["low"], params), clip_audio(media["high"], params)
    assert low.present and high.present and low.image.shape == (40, 150)
    assert 190 <= low.valid.sum() <= 210 or low.valid.all()
    cols = slice(20, 100)
    assert np.abs(low.image[:, cols].mean(1) - high.image[:, cols].mean(1)).max() > 5
    logmel = clip_audio(media["high"], AudioParams(feature="logmel", n_mels=32, width=64))
    band = logmel.image[:, 10:50].mean(1).argmax()  # 2 kHz sits in the upper half of the mel bands
    assert logmel.image.shape == (32, 64) and band > 16


def test_media_without_audio_is_masked_not_an_error(media):
    audio = clip_audio(media["none"])
    assert not audio.present and audio.why == "no audio track"
    assert not audio.valid.any() and not audio.image.any() and audio.image.shape == (40, 300)
    past = clip_audio(media["low"], start=5.0, end=6.0)
    assert not past.present and "no audio samples" in past.why


def test_fit_width_pads_short_and_resizes_long():
    img = np.arange(12, dtype=np.float32).reshape(3, 4)
    out, valid = fit_width(img, 6)
    assert out.shape == (3, 6) and valid.tolist() == [True] * 4 + [False] * 2 and not out[:, 4:].any()
    out, valid = fit_width(np.ones((3, 40), np.float32), 10)
    assert out.shape == (3, 10) and valid.all() and np.allclose(out, 1)


def test_features_of_a_very_short_signal_and_bad_params():
    img = features(tone(0.01, 16000, 440), AudioParams())
    assert img.shape[0] == 40 and np.isfinite(img).all()
    with pytest.raises(ValueError, match="n_mfcc"):
        AudioParams(n_mfcc=80, n_mels=64)
    with pytest.raises(ValueError, match="feature"):
        AudioParams(feature="chroma")
    assert AudioParams.from_dict(AudioParams(width=64).to_dict()) == AudioParams(width=64)
