"""A tiny trained clip run for the clip evaluation and Review tests: four CREMA-D-style generated
clips (two with a tone), colour embeddings, an audio-visual run trained in this process."""
from __future__ import annotations

from pathlib import Path

from core.clips.run_config import clip_run_config
from core.clips.store_embed import embed_dataset
from core.ingest import import_path
from core.jobs.status import RunStatus
from core.jobs.store import create_run
from tests.clips.clipgen import FACES
from tests.ingest.clipsets import clip
from tests.training.test_clip_jobs import ColourEmbedder
from training.clip_run import run_clip_training

N = 4  # frames per clip


def seed_clip_run(env: Path, kind: str = "audio-visual", dataset: str = "cd") -> int:
    """Import, embed and train; returns the finished run's id."""
    root = env / "crema"
    for i, (emo, face) in enumerate(zip(("ANG", "HAP") * 2, FACES)):  # four actors, two with audio
        clip(root / f"10{i:02d}_DFA_{emo}_XX.mp4", face=face, audio_hz=440.0 if i % 2 else None)
    import_path("crema-d", root, dataset=dataset, options={"clip_frames": N})
    embed_dataset(dataset, embedder=ColourEmbedder())
    run_id = create_run(clip_run_config(dataset, kind, epochs=3, batch_size=4))
    out = run_clip_training(run_id)
    assert out["status"] == RunStatus.SUCCEEDED, out
    return run_id
