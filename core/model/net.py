"""AffectNet: a backbone plus emotion, valence/arousal(/dominance), stress and named-target heads."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from core.model.config import ModelConfig
from core.model.features_mlp import from_config as features_mlp
from core.model.mini_xception import MiniXception
from core.model.mobilenet_v2 import MobileNetV2
from core.model.prior import apply_prior
from core.model.resnet import ResNet18

# name -> factory(config) giving a module whose forward returns a (B, C, H, W) feature map and
# which has .feature_dim (= C). Add a backbone by adding a line here (and its input defaults in
# config.BACKBONE_DEFAULTS).
BACKBONES: dict[str, Callable[[ModelConfig], nn.Module]] = {
    "mini_xception": lambda c: MiniXception(c.channels, c.widths),
    "resnet18": lambda c: ResNet18(c.channels, c.widths, c.width_mult),
    "mobilenet_v2": lambda c: MobileNetV2(c.channels, c.width_mult),
    "features_mlp": features_mlp,  # (B, D) feature vectors; returns a (B, C, 1, 1) map
}
# backbones whose emotion head is the Keras-style conv3x3 + global average pool (keeps the
# pretrained classifier weights); every other backbone gets pool + Linear.
CONV_HEAD_BACKBONES = {"mini_xception"}


class ConvPoolHead(nn.Module):
    """conv3x3 (same, bias) then global average pool: the mini-Xception classifier."""

    def __init__(self, c_in: int, n_out: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, n_out, 3, padding=1, bias=True)

    def forward(self, fmap: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        return self.conv(fmap).mean(dim=(2, 3))


class LinearHead(nn.Module):
    """Dropout then Linear on the pooled features."""

    def __init__(self, c_in: int, n_out: int, dropout: float = 0.0, zero_init: bool = False):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(c_in, n_out)
        if zero_init:  # outputs a constant until trained (tanh 0, sigmoid 0.5)
            nn.init.zeros_(self.fc.weight)
            nn.init.zeros_(self.fc.bias)

    def forward(self, fmap: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(pooled))


class AffectNet(nn.Module):
    """forward(x) -> {"emotion": (B, K) logits over config.classes, "va": (B, 2) in [-1, 1],
    "stress": (B, 1) in [0, 1], "dominance": (B, 1) in [-1, 1] when config.dominance, one (B, 1)
    value per config.extra_targets (inside its range for a named target, else raw)}.

    The emotion logits are read per config.emotion_mode (emotion_probs): softmax for single and
    distribution, a sigmoid per class for multi-label."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.backbone not in BACKBONES:
            raise KeyError(f"unknown backbone {config.backbone!r}; known: {sorted(BACKBONES)}")
        self.config = config
        self.backbone = BACKBONES[config.backbone](config)
        dim, n = self.backbone.feature_dim, len(config.classes)
        if config.backbone in CONV_HEAD_BACKBONES:
            self.emotion_head: nn.Module = ConvPoolHead(dim, n)
        else:
            self.emotion_head = LinearHead(dim, n, config.dropout)
        # regression heads start at zero: a fresh or never-trained head outputs a constant
        self.va_head = LinearHead(dim, 2, config.dropout, zero_init=True)
        self.stress_head = LinearHead(dim, 1, config.dropout, zero_init=True)
        self.extra_heads = nn.ModuleDict(
            {t: LinearHead(dim, 1, config.dropout, zero_init=True) for t in config.extra_targets})
        if config.dominance:  # only when declared, so older checkpoints keep their state_dict keys
            self.dominance_head = LinearHead(dim, 1, config.dropout, zero_init=True)
        # named targets: low + (high - low) * sigmoid, registered so ONNX export bakes them in
        ranges = [config.target_ranges.get(t, [0.0, 0.0]) for t in config.extra_targets]
        self.register_buffer("target_low", torch.tensor([r[0] for r in ranges]), persistent=False)
        self.register_buffer("target_span", torch.tensor([r[1] - r[0] for r in ranges]), persistent=False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        fmap = self.backbone(x)
        pooled = fmap.mean(dim=(2, 3))
        out = {
            "emotion": self.emotion_head(fmap, pooled),
            "va": torch.tanh(self.va_head(fmap, pooled)),
            "stress": torch.sigmoid(self.stress_head(fmap, pooled)),
        }
        if self.config.dominance:
            out["dominance"] = torch.tanh(self.dominance_head(fmap, pooled))
        for i, (name, head) in enumerate(self.extra_heads.items()):
            value = head(fmap, pooled)
            if name in self.config.target_ranges:
                value = self.target_low[i] + self.target_span[i] * torch.sigmoid(value)
            out[name] = value
        return out

    def emotion_probs(self, logits: torch.Tensor) -> torch.Tensor:
        """Softmax over classes, or per-class sigmoid when config.multi_label."""
        return torch.sigmoid(logits) if self.config.multi_label else torch.softmax(logits, -1)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Eval-mode outputs with emotion as probabilities; untrained V/A or stress heads are
        replaced by the prior from the emotion probabilities (core.model.prior.apply_prior)."""
        was_training = self.training
        self.eval()
        out = self.forward(x)
        self.train(was_training)
        out["emotion"] = self.emotion_probs(out["emotion"])
        out["va"], out["stress"] = apply_prior(out["emotion"], out["va"], out["stress"],
                                               trained=self.config, classes=self.config.classes)
        return out


def build_model(config: ModelConfig) -> AffectNet:
    return AffectNet(config)
