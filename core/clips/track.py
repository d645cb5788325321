"""One face per clip: detect on the sampled frames, link boxes by IoU, keep the largest persistent
track, align its crops (core.faces, the one crop geometry); slots without that face are masked."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.clips.sampling import SampledClip, SamplingRule, sample_clip
from core.faces.crop import CANONICAL_SIZE
from core.faces.pipeline import FacePipeline
from core.faces.types import Face, iou

LINK_IOU = 0.2  # a box joins a track when it overlaps the track's last box at least this much
MAX_GAP = 3  # slots a track may miss (occlusion, a missed detection) and still be continued
MIN_SLOTS = 2  # a shorter track is a passing false detection, not the clip's face


@dataclass
class _Track:
    faces: dict[int, Face] = field(default_factory=dict)  # slot -> face
    last: int = -1

    @property
    def weight(self) -> float:
        """Persistence times size: the sum of the box areas over the slots it covers."""
        return sum(f.bbox[2] * f.bbox[3] for f in self.faces.values())


@dataclass
class ClipFaces:
    """The tracked face of one clip: one aligned crop per slot, zeros where masked."""

    sampled: SampledClip
    crops: np.ndarray  # (N, CANONICAL_SIZE, CANONICAL_SIZE, 3) uint8 BGR, zeros where masked
    mask: np.ndarray  # (N,) bool: True = the slot holds the tracked face
    boxes: np.ndarray  # (N, 4) float32 x, y, w, h in frame pixels, NaN where masked
    scores: np.ndarray  # (N,) detector score, NaN where masked
    quality: np.ndarray  # (N,) crop quality in [0, 1], NaN where masked
    tracks: int  # how many persistent tracks were found (1 = one person all along)

    @property
    def coverage(self) -> float:
        """Share of the slots that hold the face."""
        return float(self.mask.mean()) if len(self.mask) else 0.0


def link_tracks(detections: list[list[Face]], *, min_iou: float = LINK_IOU,
                max_gap: int = MAX_GAP) -> list[_Track]:
    """Greedy IoU linking over slots: each box joins the open track it overlaps most (one box per
    track per slot), else starts a new track; a track unseen for more than max_gap slots closes."""
    tracks: list[_Track] = []
    for slot, faces in enumerate(detections):
        open_tracks = [t for t in tracks if slot - t.last <= max_gap + 1]
        pairs = sorted(((iou(t.faces[t.last].bbox, f.bbox), ti, fi)
                        for ti, t in enumerate(open_tracks) for fi, f in enumerate(faces)), reverse=True)
        used_t, used_f = set(), set()
        for overlap, ti, fi in pairs:
            if overlap < min_iou or ti in used_t or fi in used_f:
                continue
            used_t.add(ti)
            used_f.add(fi)
            open_tracks[ti].faces[slot] = faces[fi]
            open_tracks[ti].last = slot
        for fi, face in enumerate(faces):
            if fi not in used_f:
                tracks.append(_Track({slot: face}, slot))
    return tracks


def track_faces(sampled: SampledClip, pipeline: FacePipeline, *, min_slots: int = MIN_SLOTS) -> ClipFaces:
    """Detect every face of each sampled frame, keep the largest persistent track (at least
    min_slots slots; the sum of its box areas decides) and align its crops with the pipeline
    (mesh refinement when the pipeline has it; a face whose mesh presence is too low is masked
    like a missed one)."""
    n = len(sampled)
    detections = [pipeline.detector.detect(img) if img is not None else [] for img in sampled.images]
    tracks = [t for t in link_tracks(detections) if len(t.faces) >= min(min_slots, n)]
    crops = np.zeros((n, CANONICAL_SIZE, CANONICAL_SIZE, 3), np.uint8)
    mask = np.zeros(n, bool)
    boxes = np.full((n, 4), np.nan, np.float32)
    scores, quality = np.full(n, np.nan, np.float32), np.full(n, np.nan, np.float32)
    if tracks:
        best = max(tracks, key=lambda t: t.weight)
        for slot, face in best.faces.items():
            frame = sampled.images[slot]
            refined = pipeline.refine(frame, face)
            if refined is None:
                continue
            fc = pipeline.crop(frame, refined)
            crops[slot], mask[slot] = fc.crop, True
            boxes[slot], scores[slot] = fc.face.bbox, fc.face.score
            quality[slot] = fc.face.quality if fc.face.quality is not None else np.nan
    return ClipFaces(sampled, crops, mask, boxes, scores, quality, len(tracks))


def clip_faces(path: str | Path, rule: SamplingRule, pipeline: FacePipeline, *, start: float = 0.0,
               end: float | None = None) -> ClipFaces:
    """Sample a clip of a video and track its face in one call."""
    return track_faces(sample_clip(path, rule, start=start, end=end), pipeline)
