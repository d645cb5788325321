"""Model cards: the JSON beside an exported model that says how to feed it and read its outputs."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from core.faces.align import DEFAULT_MARGIN
from core.faces.crop import CANONICAL_SIZE
from core.inference.prediction import head_flags, output_names
from core.model.config import ModelConfig

CARD_FORMAT = "affectlab-model-card/1"
# keys of a checkpoint's meta["extra"] that hold a snapshot of the training data, first found wins
TRAINING_DATA_KEYS = ("training_data", "data_snapshot", "data", "dataset")


def card_path(artifact: str | Path) -> Path:
    """model.onnx -> model.onnx.json (one card per exported file)."""
    artifact = Path(artifact)
    return artifact.with_name(artifact.name + ".json")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_card(artifact: str | Path) -> dict[str, Any] | None:
    """The card beside an exported file, or None when there is none."""
    path = card_path(artifact)
    if not path.is_file():
        return None
    card = json.loads(path.read_text())
    if card.get("format") != CARD_FORMAT:
        raise ValueError(f"{path} is not an AffectLab model card ({CARD_FORMAT})")
    return card


def write_card(artifact: str | Path, card: dict[str, Any]) -> Path:
    """Write the card atomically (tmp + replace) beside the artifact."""
    path = card_path(artifact)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(card, f, indent=1, default=str)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a card is meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def config_from_card(card: dict[str, Any]) -> ModelConfig:
    return ModelConfig.from_dict(card["config"])


def _outputs(config: ModelConfig) -> dict[str, dict[str, Any]]:
    flags = head_flags(config)
    k = len(config.classes)
    act = "sigmoid per class" if config.multi_label else "softmax"
    out = {
        "emotion": {"shape": ["batch", k], "kind": "logits", "order": list(config.classes),
                    "to_probs": act, "status": flags["emotion"]},
        "va": {"shape": ["batch", 2], "kind": "valence, arousal (tanh)", "range": [-1.0, 1.0],
               "status": flags["va"]},
        "stress": {"shape": ["batch", 1], "kind": "stress (sigmoid)", "range": [0.0, 1.0],
                   "status": flags["stress"]},
    }
    if config.dominance:
        out["dominance"] = {"shape": ["batch", 1], "kind": "dominance (tanh)", "range": [-1.0, 1.0],
                            "status": flags["dominance"]}
    for name in config.extra_targets:
        ranged = config.target_ranges.get(name)
        out[name] = {"shape": ["batch", 1], "status": flags[name],
                     **({"kind": "named target (low + (high - low) * sigmoid)", "range": ranged}
                        if ranged else {"kind": "raw regression value"})}
    if config.emotion_mode == "multi":
        out["emotion"]["thresholds"] = dict(zip(config.classes, config.class_thresholds()))
    return out


def _prior(config: ModelConfig) -> dict[str, Any]:
    """The prior's tables, so a consumer without our code can reproduce it."""
    from core.model.prior import class_tables

    va, stress = class_tables(config.classes)
    heads = [h for h in ("va", "stress") if not config.trained[h]]
    return {"heads": heads,
            "rule": "replace each listed head's output by sum_k p_k * table[k], with p the "
                    "emotion probabilities (normalised to sum 1)",
            "va_table": {c: [round(float(a), 6), round(float(b), 6)]
                         for c, (a, b) in zip(config.classes, va)},
            "stress_table": {c: round(float(s), 6) for c, s in zip(config.classes, stress)}}


def build_card(config: ModelConfig, meta: dict[str, Any], *, fmt: str, artifact: Path,
               checkpoint: Path, parity: dict[str, Any], opset: int | None) -> dict[str, Any]:
    """Everything needed to run the exported file and to judge it, as plain JSON."""
    import torch

    extra = meta.get("extra") or {}
    training_data = next((extra[k] for k in TRAINING_DATA_KEYS if k in extra), None)
    versions = {"torch": str(torch.__version__)}
    if fmt == "onnx":
        import onnx
        import onnxruntime
        versions |= {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}
    return {
        "format": CARD_FORMAT,
        "artifact": artifact.name,
        "artifact_format": fmt,
        "artifact_sha256": file_sha256(artifact),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "checkpoint": {"path": str(checkpoint), "sha256": file_sha256(checkpoint),
                       "created": meta.get("created"), "torch_version": meta.get("torch_version")},
        "backbone": config.backbone,
        "source": config.source,
        "classes": list(config.classes),
        "multi_label": config.multi_label,
        "input": {"name": "input", "shape": ["batch", config.channels, config.input_size,
                                             config.input_size],
                  "dtype": "float32", "layout": "NCHW",
                  "color": "gray" if config.channels == 1 else "RGB",
                  "size": config.input_size, "channels": config.channels,
                  "mean": list(config.mean), "std": list(config.std),
                  "normalisation": "x = (pixel / 255 - mean) / std per channel",
                  "crop": "core.faces.align_face: 5-point similarity onto the whole-face "
                          f"template, margin {DEFAULT_MARGIN}, {CANONICAL_SIZE}x{CANONICAL_SIZE} BGR "
                          "(the canonical crop)",
                  "native_size": config.native_size,
                  "resize": "core.faces.crop.resize_crop: to gray first for 1 channel, then "
                            + (f"INTER_AREA to {config.native_size} px and " if config.native_size else "")
                            + f"to {config.input_size} px (INTER_AREA when shrinking, INTER_LINEAR "
                            "when enlarging)"},
        "outputs": _outputs(config),
        "output_order": output_names(config),
        "trained": dict(config.trained),
        "flags": head_flags(config),
        "prior": _prior(config),
        "metrics": meta.get("metrics") or {},
        "training_data": training_data,
        "checkpoint_extra": extra,
        "parity": parity,
        "opset": opset,
        "versions": versions,
        "config": config.to_dict(),
    }
