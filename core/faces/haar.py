"""OpenCV Haar-cascade face detector: the slow fallback when MediaPipe cannot load."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.faces import keypoints as kp
from core.faces.types import Face

CASCADE = "haarcascade_frontalface_default.xml"
WORK_SIDE = 640  # frames are searched at most this large (longest side); boxes are scaled back
SCORE_SCALE = 4.0  # score = 1 - exp(-level_weight / SCORE_SCALE), a monotone map into [0, 1)


class HaarBackend:
    """Frontal faces only; keypoints are estimated from the box (see keypoints.from_box)."""

    name = "haar"

    def __init__(self, *, min_neighbors: int = 5, min_side: int = 24):
        path = Path(cv2.data.haarcascades) / CASCADE
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise RuntimeError(f"could not load the Haar cascade {path}")
        self._min_neighbors = min_neighbors
        self._min_side = min_side

    def detect(self, frame_bgr: np.ndarray, min_score: float) -> list[Face]:
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        scale = min(1.0, WORK_SIDE / max(gray.shape))
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        boxes, _, weights = self._cascade.detectMultiScale3(
            gray,
            scaleFactor=1.1,
            minNeighbors=self._min_neighbors,
            minSize=(self._min_side, self._min_side),
            outputRejectLevels=True,
        )
        faces = []
        for (x, y, w, h), weight in zip(np.asarray(boxes).reshape(-1, 4), np.ravel(weights), strict=True):
            score = float(1.0 - np.exp(-max(float(weight), 0.0) / SCORE_SCALE))
            if score < min_score:
                continue
            bbox = (x / scale, y / scale, w / scale, h / scale)
            faces.append(Face(bbox=tuple(float(v) for v in bbox), score=score, keypoints=kp.from_box(bbox)))
        return faces

    def close(self) -> None:
        pass
