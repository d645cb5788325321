"""468-point MediaPipe face mesh (face_landmark.tflite) run with ai-edge-litert on a face ROI."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from core.faces.io import to_bgr
from core.faces.types import Face

INPUT_SIZE = 192  # the model's square RGB input, values in [0, 1]
ROI_SCALE = 1.5  # MediaPipe's face ROI: the detection box enlarged 1.5x, squared, eye-line level


def roi_transform(face: Face, *, size: int = INPUT_SIZE, scale: float = ROI_SCALE) -> np.ndarray:
    """2x3 affine taking frame pixels to the model input: a square of side scale*max(w, h)
    around the box centre, rotated so the eye line is horizontal (as MediaPipe does)."""
    x, y, w, h = face.bbox
    center = np.array([x + w / 2, y + h / 2], dtype=np.float64)
    eye_vec = face.keypoints[1].astype(np.float64) - face.keypoints[0]
    angle = float(np.arctan2(eye_vec[1], eye_vec[0]))  # head roll, y down
    s = size / (scale * max(w, h, 1.0))
    rot = s * np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    shift = size / 2 - rot @ center
    return np.hstack([rot, shift[:, None]])


class LandmarkModel:
    """Dense face mesh for a detected face; thread-safe (one interpreter, one lock)."""

    def __init__(self, model_path: str | Path | None = None, *, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        if model_path is None:
            from core.assets import asset_path

            model_path = asset_path("face_landmark.tflite")
        self._interp = Interpreter(model_path=str(model_path), num_threads=num_threads)
        self._interp.allocate_tensors()
        inp = self._interp.get_input_details()[0]
        if tuple(inp["shape"]) != (1, INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"{model_path}: unexpected input shape {inp['shape']}")
        self._input = inp["index"]
        outputs = {int(np.prod(d["shape"])): d["index"] for d in self._interp.get_output_details()}
        self._mesh_out, self._score_out = outputs[468 * 3], outputs[1]
        self._lock = threading.Lock()

    def landmarks(self, frame_bgr: np.ndarray, face: Face) -> tuple[np.ndarray, float]:
        """(468, 3) float32 mesh in frame pixels (z in the same scale, relative depth) and the
        face-presence probability of the ROI."""
        frame = to_bgr(frame_bgr)
        m = roi_transform(face)
        crop = cv2.warpAffine(
            frame, m, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        tensor = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32)[None] * (1.0 / 255.0)
        with self._lock:
            self._interp.set_tensor(self._input, tensor)
            self._interp.invoke()
            raw = self._interp.get_tensor(self._mesh_out).reshape(468, 3).astype(np.float64)
            logit = float(self._interp.get_tensor(self._score_out).reshape(-1)[0])
        inv = cv2.invertAffineTransform(m)
        mesh = np.empty((468, 3), dtype=np.float32)
        mesh[:, :2] = raw[:, :2] @ inv[:, :2].T + inv[:, 2]
        mesh[:, 2] = raw[:, 2] / np.hypot(m[0, 0], m[0, 1])  # undo the crop's scale
        presence = float(1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0))))
        return mesh, presence

    def close(self) -> None:
        pass
