"""End-to-end clip inference: a video -> windows (the whole video, or a sliding window for a
timeline) -> sampled frames -> the tracked face -> per-frame embeddings with the backbone the clip
checkpoint names -> the clip model (torch checkpoint or ONNX export) -> one FacePrediction per
window (emotions in the schema's mode, V/A, stress, dominance, named targets, trained/prior flags).
The rendering of the annotated video with its audio lives in core.clips.render."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.clips.sampling import SampledClip, SamplingRule, sample_spans
from core.clips.track import ClipFaces, track_faces
from core.inference.prediction import FacePrediction
from core.model.clip_config import ClipConfig
from core.model.prior import prior_va_stress
from core.video import VideoError, VideoReader

WINDOW_GROUP = 24  # windows sampled per decoding pass (bounds the frames held in memory)
MULTI_THRESHOLD = 0.5  # a multi-label clip model's category is on at this sigmoid probability


class ClipModelRunner:
    """A clip model from a torch checkpoint (.pt) or its ONNX export: run(frames, mask, audio,
    audio_valid) -> {task: (B, k) raw head outputs}; .config is the checkpoint's ClipConfig."""

    def __init__(self, path: str | Path, *, threads: int = 1):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{path}: no such clip model file")
        self.threads = threads
        if self.path.suffix.lower() == ".onnx":
            import onnx
            import onnxruntime as ort

            from core.model.clip_export import CONFIG_KEY

            meta = {p.key: p.value for p in onnx.load(str(self.path), load_external_data=False).metadata_props}
            if CONFIG_KEY not in meta:
                raise ValueError(f"{path} is not an AffectLab clip-model export (no {CONFIG_KEY} metadata)")
            self.config = ClipConfig.from_dict(json.loads(meta[CONFIG_KEY]))
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            self._model = None
            self.backend = "onnx"
        else:
            from core.model.clip_checkpoint import load_clip_model

            self._model, self.config, _ = load_clip_model(self.path)
            self._session = None
            self.backend = "torch"

    def run(self, frames: np.ndarray, mask: np.ndarray, audio: np.ndarray | None = None,
            audio_valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
        feed = {"frames": frames.astype(np.float32), "frame_mask": mask.astype(bool)}
        if self.config.has_audio:
            feed |= {"audio": audio.astype(np.float32), "audio_valid": audio_valid.astype(bool)}
        if self._session is not None:
            return dict(zip(self.config.tasks, self._session.run(list(self.config.tasks), feed)))
        import torch

        with torch_threads(self.threads), torch.inference_mode():
            out = self._model(*(torch.from_numpy(v) for v in feed.values()))
        return {t: v.float().numpy() for t, v in out.items()}


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op threads at n for a block, then as before: the frame embedder and the clip
    model both run on the threads asked for (torch's default, every core, loses several times
    its speed to waiting when the machine is busy)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def find_embedder_checkpoint(version: str) -> Path:
    """The catalog image checkpoint whose FrameEmbedder version ('stem@sha12') is `version`
    (the default model included); LookupError naming the version when none is."""
    from core.catalog import list_models
    from core.inference.card import file_sha256
    from core.model.convert_fer import ensure_default_model

    stem, _, sha = version.partition("@")
    candidates = [ensure_default_model()]
    candidates += [e.path for e in list_models() if e.kind in ("run", "checkpoint") and e.path is not None]
    for path in candidates:
        path = Path(path)
        if path.stem == stem and path.is_file() and file_sha256(path)[:12] == sha:
            return path
    raise LookupError(f"the clip model's frames were embedded by {version!r}, which is not in the model "
                      "catalog; name the image model with --embedder")


def load_embedder(config: ClipConfig, embedder: Any = None) -> Any:
    """The FrameEmbedder the clip model was trained on (config.embedder), or `embedder` (a catalog
    reference) when given; ValueError when its feature width differs from the model's input."""
    from core.clips.embed import FrameEmbedder

    if isinstance(embedder, FrameEmbedder):
        emb = embedder
    elif embedder is not None:
        emb = FrameEmbedder(embedder)
    else:
        emb = FrameEmbedder(find_embedder_checkpoint(config.embedder) if config.embedder else None)
    if emb.dim != config.input_dim:
        raise ValueError(f"the image model {emb.version} gives {emb.dim} values per frame; the clip model "
                         f"reads {config.input_dim}")
    return emb


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def clip_predictions(raw: dict[str, np.ndarray], config: ClipConfig) -> list[FacePrediction]:
    """Raw clip-model outputs -> one FacePrediction per row, in the schema's emotion mode; a head
    the model lacks: V/A and stress from the emotion prior (flag "prior"), emotion uniform
    ("untrained"); named targets clipped to their ranges."""
    schema, tasks = config.label_schema, set(config.tasks)
    classes = list(schema.classes)
    n = len(next(iter(raw.values())))
    if "emotion" in tasks:
        z = np.asarray(raw["emotion"], np.float64)
        probs = 1.0 / (1.0 + np.exp(-z)) if schema.emotion_mode == "multi" else _softmax(z)
    else:
        probs = np.full((n, len(classes)), 1.0 / len(classes))
    prior_va, prior_stress = prior_va_stress(probs.astype(np.float32), classes)
    va = np.asarray(raw["va"], np.float64) if "va" in tasks else np.asarray(prior_va, np.float64)
    stress = (np.asarray(raw["stress"], np.float64).reshape(-1) if "stress" in tasks
              else np.asarray(prior_stress, np.float64).reshape(-1))
    flags = {"emotion": "trained" if "emotion" in tasks else "untrained",
             "va": "trained" if "va" in tasks else "prior", "stress": "trained" if "stress" in tasks else "prior"}
    if "dominance" in tasks:
        flags["dominance"] = "trained"
    names = [t for t in schema.targets] if "targets" in tasks else []
    flags |= {t.name: "trained" for t in names}
    out = []
    for i in range(n):
        row = probs[i]
        top = int(np.argmax(row))
        out.append(FacePrediction(
            probs={c: float(p) for c, p in zip(classes, row)}, emotion=classes[top], confidence=float(row[top]),
            valence=float(np.clip(va[i, 0], -1, 1)), arousal=float(np.clip(va[i, 1], -1, 1)),
            stress=float(np.clip(stress[i], 0, 1)), flags=dict(flags), mode=schema.emotion_mode,
            emotions=[c for c, p in zip(classes, row) if p >= MULTI_THRESHOLD]
            if schema.emotion_mode == "multi" else None,
            dominance=float(np.clip(raw["dominance"][i, 0], -1, 1)) if "dominance" in tasks else None,
            targets={t.name: float(np.clip(raw["targets"][i, j], t.low, t.high)) for j, t in enumerate(names)}))
    return out


@dataclass
class ClipWindow:
    """One window of the video and what the clip model says about it (prediction None: the
    window holds no usable face for a visual model, or could not be decoded: `why`)."""

    start: float
    end: float
    faces: ClipFaces | None
    prediction: FacePrediction | None = None
    audio: bool = False  # an audio-visual model heard real audio in this window
    why: str | None = None

    def box_at(self, t: float) -> tuple[float, float, float, float] | None:
        """The tracked face's box at the sampled slot nearest time t (None: no face tracked)."""
        if self.faces is None or not self.faces.mask.any():
            return None
        slots = np.flatnonzero(self.faces.mask)
        nearest = slots[np.argmin(np.abs(self.faces.sampled.targets[slots] - t))]
        return tuple(float(v) for v in self.faces.boxes[nearest])

    def to_dict(self) -> dict[str, Any]:
        pred = None if self.prediction is None else {
            k: v for k, v in self.prediction.to_dict().items() if k not in ("bbox", "score", "keypoints", "quality")}
        faces = self.faces
        return {"start": round(self.start, 3), "end": round(self.end, 3),
                "frames": 0 if faces is None else len(faces.mask),
                "face_frames": 0 if faces is None else int(faces.mask.sum()),
                "coverage": 0.0 if faces is None else round(faces.coverage, 3),
                "audio": self.audio, "prediction": pred, **({"why": self.why} if self.why else {})}


def video_seconds(path: str | Path) -> float:
    """The video's duration: declared, else packets / average rate."""
    with VideoReader(path) as reader:
        if reader.info.declared_seconds:
            return float(reader.info.declared_seconds)
        if reader.info.fps:
            return reader.count_frames() / reader.info.fps
    raise VideoError(f"{path}: the video declares neither a duration nor a frame rate")


def window_spans(duration: float, window: float | None, stride: float | None) -> list[tuple[float, float]]:
    """[(start, end)]: the whole video when window is None or not shorter than it, else windows of
    `window` seconds every `stride` (default: window) seconds, the last one ending at the video's end."""
    if duration <= 0:
        raise ValueError("the video has no duration")
    if window is None or window >= duration:
        return [(0.0, duration)]
    if window <= 0 or (stride is not None and stride <= 0):
        raise ValueError(f"window ({window}) and stride ({stride}) must be positive seconds")
    stride = stride or window
    starts = list(np.arange(0.0, duration - window + 1e-6, stride))
    if starts[-1] + window < duration - 1e-3:
        starts.append(duration - window)
    return [(float(s), float(s) + window) for s in starts]


class _SharedDetections:
    """A detector that runs once per decoded frame: overlapping windows share their frames (the
    same array), so their slots share the detection too."""

    def __init__(self, detector: Any):
        self.detector, self.memo = detector, {}

    def detect(self, image: np.ndarray) -> list:
        key = id(image)
        if key not in self.memo:
            self.memo[key] = (image, self.detector.detect(image))  # the image kept: ids stay unique
        return self.memo[key][1]


@dataclass
class _PipelineView:
    """A FacePipeline whose detector is shared across the windows of one decoding pass."""

    pipeline: Any
    detector: _SharedDetections = field(init=False)

    def __post_init__(self) -> None:
        self.detector = _SharedDetections(self.pipeline.detector)

    def refine(self, frame: np.ndarray, face: Any) -> Any:
        return self.pipeline.refine(frame, face)

    def crop(self, frame: np.ndarray, face: Any) -> Any:
        return self.pipeline.crop(frame, face)


def clip_rule(config: ClipConfig) -> SamplingRule:
    """The sampling rule the model was trained with (N evenly spaced frames by default)."""
    rule = SamplingRule.from_dict(config.sampling) if config.sampling else SamplingRule.even(config.frames)
    if rule.mode == "even" and rule.frames != config.frames:
        rule = SamplingRule.even(config.frames)
    if rule.mode == "fps" and (rule.max_frames or config.frames + 1) > config.frames:
        rule = SamplingRule.at_fps(rule.fps, config.frames)
    return rule


def predict_clip_video(path: str | Path, runner: ClipModelRunner, *, embedder: Any = None,
                       pipeline: Any = None, window: float | None = None, stride: float | None = None,
                       progress: Callable[[int, int], None] | None = None) -> tuple[list[ClipWindow], dict]:
    """(one ClipWindow per window in time order, info {duration, rule, embedder, ...}). Raises
    VideoError when the video cannot be read at all."""
    config = runner.config
    emb = load_embedder(config, embedder) if config.kind != "audio" else None
    rule = clip_rule(config)
    duration = video_seconds(path)
    spans = window_spans(duration, window, stride)
    own = pipeline is None
    if own:
        from core.faces import FacePipeline

        pipeline = FacePipeline(with_landmarks=True, model="short")
    windows: list[ClipWindow] = []
    try:
        for g in range(0, len(spans), WINDOW_GROUP):
            group = spans[g:g + WINDOW_GROUP]
            sampled = sample_spans(path, rule, [(s, e) for s, e in group])
            view = _PipelineView(pipeline)
            faces = [None if isinstance(c, VideoError) else track_faces(c, view) for c in sampled]
            windows += _run_group(path, group, sampled, faces, runner, emb)
            if progress:
                progress(len(windows), len(spans))
    finally:
        if own:
            pipeline.close()
    info = {"duration": round(duration, 3), "rule": rule.to_dict(), "windows": len(windows),
            "window": window, "stride": stride if window else None,
            "embedder": None if emb is None else emb.version}
    return windows, info


def _run_group(path: str | Path, spans: list[tuple[float, float]], sampled: list[SampledClip | VideoError],
               faces: list[ClipFaces | None], runner: ClipModelRunner, emb: Any) -> list[ClipWindow]:
    config = runner.config
    n, b = config.frames, len(spans)
    x = np.zeros((b, n, config.input_dim), np.float32)
    mask = np.zeros((b, n), bool)
    crops = [f.crops[f.mask[:n]] if f is not None else None for f in faces]
    if emb is not None:
        flat = [c for c in crops if c is not None and len(c)]
        with torch_threads(runner.threads):
            feats = emb(np.concatenate(flat)) if flat else np.zeros((0, config.input_dim), np.float32)
        at = 0
        for i, f in enumerate(faces):
            if f is None:
                continue
            m = f.mask[:n]
            k = int(m.sum())
            x[i, :len(m)][m], at = feats[at:at + k], at + k
            mask[i, :len(m)] = m
    audio = audio_valid = None
    heard = [False] * b
    if config.has_audio:
        from core.audio import AudioParams, clip_audio

        params = AudioParams.from_dict(config.audio)
        images = [clip_audio(path, params, start=s, end=e) for s, e in spans]
        audio = np.stack([a.image for a in images])
        audio_valid = np.stack([a.valid for a in images])
        heard = [a.present for a in images]
    raw = runner.run(x, mask, audio, audio_valid)
    preds = clip_predictions(raw, config)
    out = []
    for i, ((s, e), clip, f) in enumerate(zip(spans, sampled, faces)):
        why = str(clip) if isinstance(clip, VideoError) else None
        usable = mask[i].any() or (heard[i] and config.has_audio)
        if why is None and not usable:
            why = "no face tracked in the window" + ("" if not config.has_audio else " and no audio")
        out.append(ClipWindow(s, e, f, preds[i] if usable and why is None else None, heard[i], why))
    return out
