"""features_mlp: an MLP backbone over per-sample feature vectors (OpenFace AUs, gaze, pose ...)."""
from __future__ import annotations

import torch
from torch import nn

from core.model.config import ModelConfig

DEFAULT_WIDTHS = [256, 128]  # hidden layer widths; the last is the pooled feature size
MIN_STD = 1e-6  # a constant dimension is divided by 1, not by ~0


class FeaturesMLP(nn.Module):
    """(B, D) raw feature vectors -> (B, C, 1, 1) features, C = widths[-1].

    The input is standardised with the per-dimension mean/std of the model config (computed on
    the training split, so a checkpoint carries its own preprocessing), then goes through
    [Linear -> LayerNorm -> GELU] per width, with dropout between hidden layers. The 1x1 map
    lets AffectNet pool and attach its heads exactly as for an image backbone. A (B, D, 1, 1)
    input is accepted too (the NCHW shape exporters feed).
    """

    def __init__(self, in_dim: int, widths: list[int] | None = None, mean: list[float] | None = None,
                 std: list[float] | None = None, dropout: float = 0.0):
        super().__init__()
        widths = list(widths or DEFAULT_WIDTHS)
        mean = torch.zeros(in_dim) if mean is None else torch.tensor(mean, dtype=torch.float32)
        std = torch.ones(in_dim) if std is None else torch.tensor(std, dtype=torch.float32)
        if mean.shape != (in_dim,) or std.shape != (in_dim,):
            raise ValueError(f"mean/std need {in_dim} values, got {tuple(mean.shape)}/{tuple(std.shape)}")
        # from the config, not the state dict: the config is the one source of the stats
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std.clamp_min(MIN_STD), persistent=False)
        layers: list[nn.Module] = []
        for i, (w_in, w_out) in enumerate(zip([in_dim, *widths[:-1]], widths)):
            if i > 0 and dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers += [nn.Linear(w_in, w_out), nn.LayerNorm(w_out), nn.GELU()]
        self.layers = nn.Sequential(*layers)
        self.in_dim, self.feature_dim = in_dim, widths[-1]

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        """(x - mean) / std on (B, D) (or (B, D, 1, 1)) raw vectors."""
        x = x.flatten(1).float()
        if x.shape[1] != self.in_dim:
            raise ValueError(f"features_mlp expects {self.in_dim} features per sample, got {x.shape[1]}")
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.standardise(x))[:, :, None, None]


def from_config(config: ModelConfig) -> FeaturesMLP:
    """channels = input dimension D, mean/std = its standardisation, widths, dropout."""
    return FeaturesMLP(config.channels, config.widths, config.mean, config.std, config.dropout)


def features_config(mean: list[float], std: list[float], **overrides) -> ModelConfig:
    """A features_mlp ModelConfig for D = len(mean) dimensions with these stats."""
    return ModelConfig.for_backbone("features_mlp", channels=len(mean), mean=[float(v) for v in mean],
                                    std=[float(v) for v in std], **overrides)
