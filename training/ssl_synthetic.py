"""A synthetic-but-structured OpenFace dataset for the semi-supervised path (tests, benchmarks).

S subjects x F frames over Anger/Sad/Happy/Neutral (the OpenFace pipeline's folders), one
<Emotion>/<subject>.csv + <subject>_aligned/*.bmp per subject and emotion. Each frame has a few
latent factors: some carry the emotion (class means), some are nuisance (pose, lighting), all
shifted per subject; the OpenFace columns (gaze, pose, 2D landmarks, AU intensities and
presence) are a fixed random linear map of them plus identity offsets and heavy per-column
noise, in OpenFace-like units. Crops are drawn faces whose brows and mouth follow the emotion,
with per-subject face shape and brightness. import_dataset() reads the folders through the real
OpenFace importer; ssl_splits() splits 70/30 then 70/20/10 (subject-grouped).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select, update

from core.ingest import import_path
from core.rules import DerivationRules
from core.splits import split_dataset
from core.store.datasets import require_dataset
from core.store.db import write_session
from core.store.models import Sample
from core.taxonomy import get_taxonomy

EMOTIONS = ["Anger", "Sad", "Happy", "Neutral"]
AUS_R = [1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45]
AUS_C = sorted(AUS_R + [28])
GAZE = [f"gaze_{e}_{a}" for e in (0, 1) for a in "xyz"] + ["gaze_angle_x", "gaze_angle_y"]
POSE = [f"pose_{p}" for p in ("Tx", "Ty", "Tz", "Rx", "Ry", "Rz")]
LANDMARKS = [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
FEATURES = GAZE + POSE + LANDMARKS + [f"AU{a:02d}_r" for a in AUS_R] + [f"AU{a:02d}_c" for a in AUS_C]
BROWS = {"Anger": (-0.5, 0.0), "Sad": (0.5, -0.2), "Happy": (0.0, 0.1), "Neutral": (0.0, 0.0)}
MOUTH = {"Anger": -0.2, "Sad": -0.8, "Happy": 1.0, "Neutral": 0.0}  # curvature: + = smile


@dataclass
class Spec:
    subjects: int = 40
    frames: int = 60  # per subject, split evenly over the emotions
    emotion_dims: int = 4  # latent factors whose mean depends on the emotion
    nuisance_dims: int = 4  # latent factors unrelated to it
    class_sep: float = 1.8  # std of the class means in the latent space
    subject_shift: float = 0.7  # std of each subject's latent shift (personalisation matters)
    identity: float = 1.0  # std of each subject's per-column offset (face shape)
    noise: float = 3.5  # per-column noise std; the latent signal per column has std ~1
    image_size: int = 64
    seed: int = 0


def _units(v: np.ndarray) -> np.ndarray:
    """Unit-free columns (N, D) -> OpenFace-like units, column group by column group."""
    out = v.copy()
    g, p, n_lm, n_r = len(GAZE), len(POSE), len(LANDMARKS), len(AUS_R)
    out[:, :g] *= 0.08
    out[:, g:g + 3] = out[:, g:g + 3] * 15 + np.array([0, 10, 550])
    out[:, g + 3:g + p] *= 0.06
    base = np.r_[np.linspace(180, 420, 68), np.linspace(160, 460, 68)]
    out[:, g + p:g + p + n_lm] = out[:, g + p:g + p + n_lm] * 2.5 + base
    r = g + p + n_lm
    out[:, r:r + n_r] = np.clip(1.2 + 0.7 * out[:, r:r + n_r], 0, 5)
    out[:, r + n_r:] = (out[:, r + n_r:] > 0.4).astype(np.float64)
    return out


def draw_face(emotion: str, z: np.ndarray, look: np.ndarray, size: int, rng: np.random.Generator
              ) -> np.ndarray:
    """A gray face: brows and mouth follow the emotion (scaled by the frame's intensity z[0]),
    face width/brightness/eye spacing follow the subject (look), position jitters."""
    k = size / 64
    img = np.full((size, size), 40 + 10 * look[3], np.float32)
    cx, cy = size / 2 + rng.normal(0, 1.5 * k), size / 2 + rng.normal(0, 1.5 * k)
    w, h = (20 + 2 * look[0]) * k, 26 * k
    cv2.ellipse(img, (int(cx), int(cy)), (int(w), int(h)), 0, 0, 360, 150 + 25 * look[1], -1)
    gain = 1 + 0.3 * np.tanh(z[0])
    inner, outer = BROWS[emotion]
    ex = (8 + look[2]) * k
    for side in (-1, 1):
        eye = (int(cx + side * ex), int(cy - 4 * k))
        cv2.circle(img, eye, int(2.5 * k), 30, -1)
        y_in, y_out = cy - 11 * k + 5 * k * inner * gain, cy - 11 * k + 5 * k * outer * gain
        cv2.line(img, (int(cx + side * 3 * k), int(y_in)), (int(cx + side * 13 * k), int(y_out)), 40,
                 max(1, int(2 * k)))
    curve = MOUTH[emotion] * gain * 5 * k
    xs = np.linspace(-9, 9, 12) * k
    pts = np.stack([cx + xs, cy + 12 * k - curve * (1 - (xs / (9 * k)) ** 2)], 1)
    cv2.polylines(img, [pts.astype(np.int32)], False, 35, max(1, int(2 * k)))
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_dataset(root: Path, spec: Spec) -> dict:
    """<Emotion>/<subject>.csv + <subject>_aligned/frame_det_00_NNNNNN.bmp for every subject and
    emotion, in OpenFace FeatureExtraction's format (only columns the importer reads)."""
    rng = np.random.default_rng(spec.seed)
    k, d = spec.emotion_dims + spec.nuisance_dims, len(FEATURES)
    mix = rng.normal(size=(k, d)) / np.sqrt(k)  # the shared low-dimensional structure
    means = np.zeros((len(EMOTIONS), k))
    means[:, :spec.emotion_dims] = rng.normal(size=(len(EMOTIONS), spec.emotion_dims)) * spec.class_sep
    per = spec.frames // len(EMOTIONS)
    header = ["frame", " face_id", " timestamp", " confidence", " success"] + [f" {c}" for c in FEATURES]
    for s in range(spec.subjects):
        subject = f"p{s:03d}"
        shift = rng.normal(size=k) * spec.subject_shift
        identity = rng.normal(size=d) * spec.identity
        look = rng.normal(size=4)
        for e, emotion in enumerate(EMOTIONS):
            z = means[e] + shift + rng.normal(size=(per, k))
            cols = _units(z @ mix + identity + rng.normal(size=(per, d)) * spec.noise)
            folder = root / emotion / f"{subject}_aligned"
            folder.mkdir(parents=True, exist_ok=True)
            lines = [",".join(header)]
            for f in range(per):
                lines.append(", ".join([str(f + 1), "0", f"{f / 30:.3f}", "0.98", "1"]
                                       + [f"{v:.4f}" for v in cols[f]]))
                face = draw_face(emotion, z[f], look, spec.image_size, rng)
                cv2.imwrite(str(folder / f"frame_det_00_{f + 1:06d}.bmp"), cv2.cvtColor(face, cv2.COLOR_GRAY2BGR))
            (root / emotion / f"{subject}.csv").write_text("\n".join(lines) + "\n")
    return {"subjects": spec.subjects, "frames": per * len(EMOTIONS) * spec.subjects, "dims": d}


def import_dataset(root: Path, dataset: str) -> dict:
    """Through the real OpenFace importer: emotion from the folder, stress and V/A derived."""
    report = import_path("openface", root, dataset=dataset, taxonomy=get_taxonomy("openface4", EMOTIONS),
                         rules=DerivationRules(va_table="openface"))
    return {"added": report.added, "errors": len(report.errors)}


def ssl_splits(dataset: str, seed: int) -> dict:
    """70/30 (pretrain / labelled), then 70/20/10 (ssl / classifier / finetune) within labelled."""
    with write_session() as s, s.begin():
        ds = require_dataset(s, dataset)
        s.execute(update(Sample).where(Sample.dataset_id == ds.id).values(split=None))
        split_dataset(s, ds.id, "70/30", seed=seed)
        split_dataset(s, ds.id, "70/20/10", seed=seed)
        rows = s.execute(select(Sample.split, Sample.subject).where(Sample.dataset_id == ds.id)).all()
    frames, subjects = Counter(r[0] for r in rows), {}
    for sp, subj in rows:
        subjects.setdefault(sp, set()).add(subj)
    return {sp: {"frames": frames[sp], "subjects": len(subjects[sp])} for sp in sorted(frames)}
