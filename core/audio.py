"""A clip's audio: decoded and resampled to mono with PyAV, turned into an MFCC or log-mel "image"
with librosa (0.11: installs beside numpy 2.4 / Python 3.11; torchaudio has no build for torch
2.13). Media without an audio track, or an empty or undecodable one, give a masked image, never
an error."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

FEATURES = ("mfcc", "logmel")


@dataclass(frozen=True)
class AudioParams:
    """How a clip's audio becomes an image; recorded in every clip checkpoint."""

    sample_rate: int = 16000  # Hz after resampling (mono)
    feature: str = "mfcc"  # mfcc | logmel
    n_mels: int = 64  # mel bands (log-mel rows; the MFCCs are computed from them)
    n_mfcc: int = 40  # MFCC rows
    n_fft: int = 512  # 32 ms window at 16 kHz
    hop: int = 160  # 10 ms between columns
    width: int = 300  # columns of the image: shorter audio is padded (and masked), longer resized to fit

    def __post_init__(self) -> None:
        if self.feature not in FEATURES:
            raise ValueError(f"audio feature {self.feature!r} is not one of {', '.join(FEATURES)}")
        for name in ("sample_rate", "n_mels", "n_mfcc", "n_fft", "hop", "width"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"audio {name} must be a positive whole number, got {value!r}")
        if self.feature == "mfcc" and self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc ({self.n_mfcc}) cannot exceed n_mels ({self.n_mels})")

    @property
    def rows(self) -> int:
        return self.n_mfcc if self.feature == "mfcc" else self.n_mels

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> AudioParams:
        return cls(**{k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__})


@dataclass
class ClipAudio:
    """The audio image of one clip; present False = masked (no track, empty or undecodable)."""

    image: np.ndarray  # (rows, width) float32, zeros where there is no audio
    valid: np.ndarray  # (width,) bool: columns computed from real audio
    present: bool
    seconds: float  # audio actually decoded
    why: str | None = None  # why it is masked


def decode_audio(path: str | Path, *, start: float = 0.0, end: float | None = None,
                 sample_rate: int = 16000) -> tuple[np.ndarray | None, str | None]:
    """(mono float32 samples at sample_rate of [start, end], None) or (None, why) when the media
    has no audio track or it cannot be decoded. Raises only when the file cannot be opened."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None, "no audio track"
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        parts: list[np.ndarray] = []
        first: float | None = None
        try:
            if start > 0 and stream.time_base:
                container.seek(int(start / stream.time_base), stream=stream)
            for frame in container.decode(stream):
                if first is None:
                    first = float(frame.time) if frame.time is not None else 0.0
                if end is not None and frame.time is not None and frame.time > end:
                    break
                parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
        except av.FFmpegError as exc:
            if not parts:
                return None, f"audio track cannot be decoded ({exc})"
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    skip = max(0, int(round((start - (first or 0.0)) * sample_rate)))
    samples = samples[skip:]
    if end is not None:
        samples = samples[:max(0, int(round((end - start) * sample_rate)))]
    if samples.size == 0:
        return None, "no audio samples in the clip's time range"
    return samples, None


def features(samples: np.ndarray, params: AudioParams) -> np.ndarray:
    """(rows, columns) float32 MFCC or log-mel (dB) of mono samples."""
    import librosa

    y = np.asarray(samples, np.float32)
    if y.size < params.n_fft:
        y = np.pad(y, (0, params.n_fft - y.size))
    mel = librosa.feature.melspectrogram(y=y, sr=params.sample_rate, n_fft=params.n_fft,
                                         hop_length=params.hop, n_mels=params.n_mels)
    logmel = librosa.power_to_db(mel, ref=1.0, top_db=80.0)
    if params.feature == "logmel":
        return logmel.astype(np.float32)
    return librosa.feature.mfcc(S=logmel, n_mfcc=params.n_mfcc).astype(np.float32)


def fit_width(image: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(image padded with zeros or resized along time to `width` columns, valid-column mask)."""
    import cv2

    rows, cols = image.shape
    valid = np.zeros(width, bool)
    if cols <= width:
        out = np.zeros((rows, width), np.float32)
        out[:, :cols] = image
        valid[:cols] = True
        return out, valid
    valid[:] = True
    return cv2.resize(image, (width, rows), interpolation=cv2.INTER_AREA).astype(np.float32), valid


def masked(params: AudioParams, why: str) -> ClipAudio:
    return ClipAudio(np.zeros((params.rows, params.width), np.float32), np.zeros(params.width, bool),
                     False, 0.0, why)


def clip_audio(path: str | Path, params: AudioParams = AudioParams(), *, start: float = 0.0,
               end: float | None = None) -> ClipAudio:
    """The audio image of [start, end] of a media file; masked when it has no usable audio."""
    samples, why = decode_audio(path, start=start, end=end, sample_rate=params.sample_rate)
    if samples is None:
        return masked(params, why or "no audio")
    if not np.isfinite(samples).all():
        return masked(params, "audio samples are not finite numbers")
    image, valid = fit_width(features(samples, params), params.width)
    return ClipAudio(image, valid, True, samples.size / params.sample_rate)
