"""Pictures for the app: crops and source frames from the data dir, boxes, keypoints, landmarks."""
from __future__ import annotations

import cv2
import numpy as np

from core.config import get_settings
from core.faces.io import ImageError, read_image
from core.paths import PathRefused, confined, data_file
from core.video import read_frame

BOX = (0, 200, 255)  # BGR orange
POINT = (80, 255, 80)
MESH = (255, 220, 120)


def crop_image(crop_path: str) -> np.ndarray:
    """A stored crop (BGR) by its data-dir relative path; ImageError when it is missing or the
    stored path leads outside the data dir (core.paths)."""
    try:
        path = confined(crop_path, (get_settings().data_dir,))
    except PathRefused as exc:
        raise ImageError(str(exc)) from None
    return read_image(path)


def source_frame(media_path: str, kind: str, frame_index: int | None) -> np.ndarray | None:
    """The source picture of a sample: the image, or the video frame at frame_index; None when
    the file is missing or its stored path leads outside the data dir."""
    path = data_file(media_path)
    if path is None:
        return None
    if kind == "image":
        return read_image(path)
    return read_frame(path, int(frame_index or 0))  # the import's frame numbering (core.video)


def draw_face(frame: np.ndarray, *, bbox: list[float] | None, keypoints: list | None = None,
              landmarks: np.ndarray | None = None, label: str | None = None) -> np.ndarray:
    """A copy of frame with the face box, 5 keypoints, mesh points and a label drawn."""
    out = frame.copy()
    scale = max(1, round(max(out.shape[:2]) / 640))
    if landmarks is not None:
        for x, y in np.asarray(landmarks)[:, :2].astype(int):
            cv2.circle(out, (int(x), int(y)), scale, MESH, -1, cv2.LINE_AA)
    if bbox is not None:
        x, y, w, h = (int(round(v)) for v in bbox)
        cv2.rectangle(out, (x, y), (x + w, y + h), BOX, 2 * scale, cv2.LINE_AA)
        if label:
            cv2.putText(out, label, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, BOX,
                        2 * scale, cv2.LINE_AA)
    for x, y in keypoints or []:
        cv2.circle(out, (int(x), int(y)), 3 * scale, POINT, -1, cv2.LINE_AA)
    return out


def bgr_to_rgb(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if img.ndim == 3 else img
