"""Face mesh: shape, placement inside the face box, presence on faces vs noise, rolled faces."""

from __future__ import annotations

import cv2
import numpy as np
from face_test_utils import inside_box

from core.faces import Face
from core.faces import keypoints as kp


def test_mesh_on_a_real_face(detector, landmark_model, single_face):
    face = detector.detect(single_face)[0]
    mesh, presence = landmark_model.landmarks(single_face, face)
    assert mesh.shape == (468, 3) and mesh.dtype == np.float32
    assert presence > 0.9
    assert inside_box(mesh, face.bbox).mean() > 0.9
    err = np.linalg.norm(kp.from_mesh(mesh)[:3] - face.keypoints[:3], axis=1)
    assert err.max() < 0.3 * face.eye_distance  # mesh eyes / nose agree with the detector


def test_presence_low_on_noise_and_blank(landmark_model, noise_frame):
    box = (220.0, 140.0, 200.0, 200.0)
    fake = Face(bbox=box, score=0.5, keypoints=kp.from_box(box))
    assert landmark_model.landmarks(noise_frame, fake)[1] < 0.2
    assert landmark_model.landmarks(np.zeros_like(noise_frame), fake)[1] < 0.2


def test_mesh_follows_a_rolled_face(detector, landmark_model, single_face):
    h, w = single_face.shape[:2]
    rolled = cv2.warpAffine(
        single_face,
        cv2.getRotationMatrix2D((w / 2, h / 2), -30, 1.0),
        (w, h),
        borderMode=cv2.BORDER_REPLICATE,
    )
    face = detector.detect(rolled)[0]
    mesh, presence = landmark_model.landmarks(rolled, face)
    assert presence > 0.9
    k = kp.from_mesh(mesh)
    angle = np.degrees(np.arctan2(*(k[1] - k[0])[::-1]))
    assert 20 < angle < 40  # the eye line is rolled by ~30 degrees (y down)
