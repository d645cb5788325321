"""The affect model: config, backbones + heads, checkpoints, FER conversion, V/A-stress prior."""
from core.model.checkpoint import load_checkpoint, save_checkpoint
from core.model.config import ModelConfig
from core.model.net import BACKBONES, AffectNet, build_model

__all__ = ["BACKBONES", "AffectNet", "ModelConfig", "build_model", "load_checkpoint",
           "save_checkpoint"]
