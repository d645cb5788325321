"""A tiny CREMA-D-style clip dataset and a clip model fitted to it, for the embed / predict-clips
tests (in process and under torchrun)."""
from __future__ import annotations

from pathlib import Path

from core.ingest import import_path
from tests.clips.clipgen import FACES
from tests.ingest.clipsets import clip

N = 4  # frames per clip


def crema_clips(env: Path, n: int = 4) -> str:
    """n CREMA-D-style clips (ANG, HAP, ...; a tone on every other one) imported as dataset "cd"."""
    root = env / "crema"
    for i in range(n):
        clip(root / f"10{i:02d}_DFA_{('ANG', 'HAP')[i % 2]}_XX.mp4", face=FACES[i % len(FACES)],
             audio_hz=440.0 if i % 2 else None, faceless=range(0, 6) if i == 0 else ())
    import_path("crema-d", root, dataset="cd", options={"clip_frames": N})
    return "cd"


def train_tiny(env: Path, dataset: str, kind: str = "mean_mlp") -> Path:
    """A clip model fitted to the dataset's own clips (default model's embeddings) -> checkpoint."""
    from core.model.clip_checkpoint import build_clip_model
    from core.model.clip_config import ClipConfig
    from training.clip_data import store_clip_data
    from training.clip_train import ClipTrainOptions, train_clip_model

    audio = kind != "mean_mlp"
    data = store_clip_data(dataset, tasks=["emotion"], audio=audio, frames=N)
    config = ClipConfig(kind=kind, schema=data.schema.to_dict(), tasks=["emotion"], frames=N,
                        input_dim=data.data.frames.shape[2], d_model=16, hidden=32, dropout=0.0,
                        embedder=data.model, audio=({"width": 300} if audio else None))
    out = env / f"{kind}.pt"
    train_clip_model(build_clip_model(config), data.data, out=out,
                     options=ClipTrainOptions(epochs=80, batch_size=4, lr=0.01, threads=1, modality_dropout=0.0))
    return out
