"""Frame -> aligned face crops: detect, optionally mesh, score quality, align every face."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.faces import keypoints as kp
from core.faces.align import DEFAULT_MARGIN, align_face
from core.faces.detect import FaceDetector
from core.faces.io import to_bgr
from core.faces.landmarks import LandmarkModel
from core.faces.quality import quality_score
from core.faces.types import Face


@dataclass
class FaceCrop:
    face: Face  # with quality set (and landmarks / presence when computed)
    crop: np.ndarray  # the canonical aligned crop, (CANONICAL_SIZE, CANONICAL_SIZE, 3) BGR


class FacePipeline:
    """One reusable pipeline for stills, video frames and the webcam (thread-safe).

    with_landmarks runs the 468-point mesh on each face (~1 ms a face), refines the 5 keypoints
    from it (real mouth corners), uses its presence score in the quality and drops detections
    whose presence is below min_presence: BlazeFace scores 0.4-0.7 on some textures and pure
    noise, where presence stays under 0.2 (real faces: > 0.97). model picks the BlazeFace range
    ("short": webcam/selfie; "full": small faces in group photos; "both": every face of a still).
    A detector or landmark_model passed in is shared (min_score, model and backend then go
    unused) and is not closed by close(). Every crop is the canonical one (core.faces.crop):
    models resize from it, so there is no size or colour to choose here.
    """

    def __init__(
        self,
        *,
        with_landmarks: bool = False,
        min_score: float = 0.5,
        min_presence: float = 0.5,
        model: str = "short",
        backend: str = "auto",
        margin: float = DEFAULT_MARGIN,
        max_faces: int | None = None,
        detector: FaceDetector | None = None,
        landmark_model: LandmarkModel | None = None,
    ):
        self.margin, self.max_faces = margin, max_faces
        self.with_landmarks, self.min_presence = with_landmarks, min_presence
        self._owned: list[FaceDetector | LandmarkModel] = []
        if detector is None:
            detector = FaceDetector(min_score=min_score, backend=backend, model=model)
            self._owned.append(detector)
        if with_landmarks and landmark_model is None:
            landmark_model = LandmarkModel()
            self._owned.append(landmark_model)
        self.detector, self.landmark_model = detector, landmark_model

    def process(self, frame_bgr: np.ndarray) -> list[FaceCrop]:
        """Every detected face (highest score first, at most max_faces) with its aligned crop."""
        frame = to_bgr(frame_bgr)
        crops = []
        for face in self.detector.detect(frame):
            if self.max_faces is not None and len(crops) >= self.max_faces:
                break
            crop = self._finish(frame, face)
            if crop is not None:
                crops.append(crop)
        return crops

    def _finish(self, frame: np.ndarray, face: Face) -> FaceCrop | None:
        refined = self.refine(frame, face)
        return None if refined is None else self.crop(frame, refined)

    def refine(self, frame: np.ndarray, face: Face) -> Face | None:
        """With the mesh: the face with landmarks, presence and mesh keypoints, or None when
        its presence is below min_presence. Without it: the face as detected."""
        if not (self.with_landmarks and self.landmark_model is not None):
            return face
        mesh, presence = self.landmark_model.landmarks(frame, face)
        if presence < self.min_presence:
            return None
        return replace(face, landmarks=mesh, presence=presence, keypoints=kp.from_mesh(mesh))

    def crop(self, frame: np.ndarray, face: Face) -> FaceCrop:
        """Align the face's canonical crop once and score its quality from it (sets face.quality)."""
        crop = align_face(frame, face.keypoints, margin=self.margin)
        face.quality = quality_score(frame, face, landmarks_presence=face.presence,
                                     crop=crop if self.margin == DEFAULT_MARGIN else None)
        return FaceCrop(face=face, crop=crop)

    def close(self) -> None:
        """Close the models this pipeline created (shared ones stay open)."""
        for model in self._owned:
            model.close()

    def __enter__(self) -> FacePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
