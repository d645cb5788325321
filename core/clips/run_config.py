"""The config of a clip training run (a Run row with kind "clip", trained by training.clip_run):
the Train page's model names and the row's config dict."""
from __future__ import annotations

from typing import Any

# the Train page's names -> ClipConfig kinds
MODEL_KINDS = {"temporal": "transformer", "mean-baseline": "mean_mlp", "audio-visual": "av_cross",
               "audio-visual-concat": "av_concat", "audio": "audio", "fusion": "fusion"}


def clip_run_config(dataset: str, model_kind: str = "temporal", *, epochs: int = 30, batch_size: int = 32,
                    lr: float = 1e-3, embedding: str | None = None, tasks: list[str] | None = None,
                    members: list[int] | None = None, seed: int = 0, name: str | None = None) -> dict[str, Any]:
    """The config of a clip Run row (core.jobs.store.create_run takes it as it is)."""
    if model_kind not in MODEL_KINDS:
        raise ValueError(f"clip model {model_kind!r} is not one of {', '.join(MODEL_KINDS)}")
    if model_kind == "fusion" and len(members or []) != 2:
        raise ValueError("a fusion run needs two finished temporal runs (members)")
    return {"kind": "clip", "model_kind": model_kind, "dataset": dataset, "epochs": int(epochs),
            "batch_size": int(batch_size), "lr": float(lr), "embedding": embedding, "tasks": tasks,
            "members": list(members or []), "seed": int(seed),
            "name": name or f"clip {model_kind} on {dataset}", "backbone": f"clip-{model_kind}"}


def is_clip_run(config: dict[str, Any] | None) -> bool:
    return (config or {}).get("kind") == "clip"
