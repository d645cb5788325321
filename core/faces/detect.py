"""Face detection: MediaPipe BlazeFace (Tasks API) with an OpenCV Haar fallback."""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Protocol

import cv2
import numpy as np

from core.faces import keypoints as kp
from core.faces.io import to_bgr
from core.faces.types import Face, iou

log = logging.getLogger(__name__)

# model name -> asset. "short": faces filling much of the frame (webcam, selfies, pre-cropped
# dataset faces down to 25x25 px; ~1.1 ms per 640x480 frame). "full": also small faces in group
# photos (~2.6 ms), but it misses faces that fill the frame (8/100 of LFW's 25x25 crops).
MODELS = {"short": "face_detection_short_range.tflite", "full": "face_detection_full_range_sparse.tflite"}
# "both" runs the two ranges and keeps each face once: every face of a group photo (the full
# range alone misses face-filling ones, the short range small ones). Stills use it by default;
# streams use the short range alone (one model per frame).
DETECTOR_MODELS = (*MODELS, "both")
STILLS_DETECTOR, STREAM_DETECTOR = "both", "short"
SAME_FACE_IOU = 0.3  # boxes of the two ranges overlapping more than this are one face


class _Backend(Protocol):
    name: str

    def detect(self, frame_bgr: np.ndarray, min_score: float) -> list[Face]: ...

    def close(self) -> None: ...


class MediapipeBackend:
    """BlazeFace run by mediapipe's Tasks FaceDetector on a legacy .tflite model."""

    name = "mediapipe"

    def __init__(self, model: str = "short", *, min_score: float = 0.5):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        from core.assets import asset_path

        if model not in MODELS:
            raise ValueError(f"unknown detector model {model!r}; choose from {sorted(MODELS)}")
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(asset_path(MODELS[model]))),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=min_score,
        )
        self._mp = mp
        self._detector = vision.FaceDetector.create_from_options(options)
        _close_before_exit(self._detector)

    def detect(self, frame_bgr: np.ndarray, min_score: float) -> list[Face]:
        h, w = frame_bgr.shape[:2]
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        result = self._detector.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb))
        faces = []
        for det in result.detections:
            score = float(det.categories[0].score) if det.categories else 0.0
            if score < min_score or len(det.keypoints) < 4:
                continue
            box = det.bounding_box
            points = np.array([[p.x * w, p.y * h] for p in det.keypoints], dtype=np.float32)
            faces.append(
                Face(
                    bbox=(float(box.origin_x), float(box.origin_y), float(box.width), float(box.height)),
                    score=score,
                    keypoints=kp.from_blazeface(points),
                )
            )
        return faces

    def close(self) -> None:
        self._detector.close()


class MergedBackend:
    """Both BlazeFace ranges on one frame: every short-range face, then each full-range face
    that overlaps none of them by more than SAME_FACE_IOU."""

    name = "mediapipe"

    def __init__(self, *, min_score: float = 0.5):
        self._parts = [MediapipeBackend("short", min_score=min_score),
                       MediapipeBackend("full", min_score=min_score)]

    def detect(self, frame_bgr: np.ndarray, min_score: float) -> list[Face]:
        kept: list[Face] = []
        for part in self._parts:
            kept += [f for f in part.detect(frame_bgr, min_score)
                     if all(iou(f.bbox, k.bbox) <= SAME_FACE_IOU for k in kept)]
        return kept

    def close(self) -> None:
        for part in self._parts:
            part.close()


def _close_before_exit(detector: object) -> None:
    """Close a Tasks detector at exit while mediapipe's worker thread still runs; closed later
    (by mediapipe's own __del__ at interpreter teardown) it prints a traceback."""
    ref = weakref.ref(detector)

    def hook() -> None:
        alive = ref()
        if alive is not None:
            alive.close()

    try:  # threading's exit hooks run in reverse order, so before the executor shuts down
        threading._register_atexit(hook)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        pass


class FaceDetector:
    """Detect faces in BGR (or gray / BGRA) uint8 frames; thread-safe, reusable.

    backend: "mediapipe", "haar", or "auto" (MediaPipe, else Haar with a warning); the one in
    use is in `self.backend`. model: BlazeFace "short" (default, webcam/selfie range, ~1.1 ms
    per 640x480 frame), "full" (also small faces in group photos, ~2.6 ms) or "both" (the two,
    merged: every face of a still, whatever its size). Scores below
    min_score are dropped; results are sorted by score, highest first.
    """

    def __init__(self, *, min_score: float = 0.5, backend: str = "auto", model: str = "short"):
        if backend not in ("auto", "mediapipe", "haar"):
            raise ValueError(f"unknown backend {backend!r}; choose auto, mediapipe or haar")
        self.min_score = min_score
        self.model = model
        self._lock = threading.Lock()
        self._impl: _Backend = self._load(backend, model, min_score)
        self.backend = self._impl.name

    @staticmethod
    def _load(backend: str, model: str, min_score: float) -> _Backend:
        from core.faces.haar import HaarBackend

        if backend == "haar":
            return HaarBackend()
        if model not in DETECTOR_MODELS:
            raise ValueError(f"unknown detector model {model!r}; choose from {DETECTOR_MODELS}")
        try:
            if model == "both":
                return MergedBackend(min_score=min_score)
            return MediapipeBackend(model, min_score=min_score)
        except Exception as exc:  # import errors, missing model, runtime failures
            if backend == "mediapipe":
                raise
            log.warning("MediaPipe face detector unavailable (%s); using the Haar fallback", exc)
            return HaarBackend()

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        frame = to_bgr(frame_bgr)
        if frame.shape[0] < 2 or frame.shape[1] < 2:
            return []
        with self._lock:
            faces = self._impl.detect(frame, self.min_score)
        return sorted(faces, key=lambda f: f.score, reverse=True)

    def close(self) -> None:
        with self._lock:
            self._impl.close()

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
