"""A stored video (media row, 10 fps, 30 frames) with unlabelled frame samples, for trace tests."""
from __future__ import annotations

from core.ingest.commit import commit_samples
from core.ingest.records import PendingSample
from core.store.datasets import get_or_create_dataset
from core.store.models import Media

SHA = "f" * 64


def seed_video(session, *, frames: int = 30, fps: float = 10.0, every: int = 5, path: str = "media/v.mp4") -> int:
    """The media id; a frame sample every `every` frames (timestamp = frame / fps), no labels."""
    media = Media(sha256=SHA, path=path, original_name="face.mp4", kind="video", width=320, height=180,
                  fps=fps, frames=frames)
    session.add(media)
    session.flush()
    ds = get_or_create_dataset(session, "vid")
    records = [PendingSample(crop_sha256=f"v{i:08d}".ljust(64, "0"), crop_path=f"crops/v/{i}.png",
                             source_path="face.mp4", media_sha256=SHA, frame_index=i, timestamp=i / fps)
               for i in range(0, frames, every)]
    commit_samples(session, ds, records, rules=None)
    return media.id
