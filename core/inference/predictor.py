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
    export_stem,
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
    FacePipelines predict_frame builds on first use: detector is the default BlazeFace range
    ("both" = every face of a still; streams ask for "short" per call). Every pipeline aligns the
    canonical crop once per face; the model's preprocessing resizes from it exactly as training
    does. Pass pipeline to share one instead (it then serves every call).
    """

    def __init__(self, model: str | Path, *, backend: str = "auto", threads: int = 1,
                 detector: str = "both", with_landmarks: bool = True,
                 min_score: float = 0.5, pipeline: Any = None):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
        self.threads, self.detector, self.with_landmarks = threads, detector, with_landmarks
        self.min_score = min_score
        self._shared_pipeline = pipeline
        self._pipelines: dict[str, Any] = {}  # detector range -> the FacePipeline this built
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
        """The checkpoint's name per run ("run-3" for models/run-3/best.pt, else the file stem) and
        the first 12 hex digits of its sha256."""
        return f"{export_stem(self.checkpoint or self.path).split('.')[0]}@{self._sha[:12]}"

    @property
    def pipeline(self):
        """The FacePipeline of predict_frame for the default detector, built on first use."""
        return self.pipeline_for(None)

    def pipeline_for(self, detector: str | None):
        """The FacePipeline for a BlazeFace range (None = self.detector); those built here share
        one face-mesh model."""
        if self._shared_pipeline is not None:
            return self._shared_pipeline
        model = detector or self.detector
        with self._lock:
            if model not in self._pipelines:
                from core.faces import FacePipeline

                mesh = next((p.landmark_model for p in self._pipelines.values()), None)
                self._pipelines[model] = FacePipeline(  # the first one owns the mesh model
                    with_landmarks=self.with_landmarks, model=model, min_score=self.min_score,
                    landmark_model=mesh)
            return self._pipelines[model]

    def forward(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Raw outputs (logits, tanh V/A, sigmoid stress, extras) of a preprocessed batch."""
        return self._runner(x)

    def predict_crops(self, crops: list[np.ndarray]) -> list[FacePrediction]:
        """Aligned face crops (BGR or gray uint8, any size) -> one prediction each, batched."""
        return self._predict(list(crops), None)

    def predict_frame(self, frame_bgr: np.ndarray, *, detector: str | None = None
                      ) -> list[FacePrediction]:
        """Detect and align every face of a frame once, then predict them in one batch; each
        prediction carries its canonical crop (.crop, e.g. for capture). detector: the BlazeFace
        range for this call (None = self.detector; the live stream passes "short")."""
        found = self.pipeline_for(detector).process(frame_bgr)
        preds = self._predict([f.crop for f in found], [f.face for f in found])
        for pred, fc in zip(preds, found):
            pred.crop = fc.crop
        return preds

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
        """Close the face pipelines this predictor built (a shared one stays open)."""
        with self._lock:
            pipes, self._pipelines = list(self._pipelines.values()), {}
        for pipe in pipes:
            pipe.close()

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
