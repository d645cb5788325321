"""Temporal models over per-frame embeddings (B, N, D) with a frame mask (B, N): a Transformer
(learned positional embedding, CLS token, CLS or masked-mean pooling) and the cheap baseline
(masked mean + MLP), both with heads built from the label schema."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from core.model.attention import Block, masked_mean
from core.model.clip_config import ClipConfig


class SchemaHeads(nn.Module):
    """One linear head per task on a pooled vector: emotion logits (softmax for single and
    distribution, sigmoid for multi-label, applied by the loss / postprocess), V/A and dominance
    through tanh, stress through a sigmoid, named targets raw."""

    def __init__(self, dim: int, head_dims: dict[str, int], dropout: float = 0.0):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({t: nn.Linear(dim, n) for t, n in head_dims.items()})

    def forward(self, pooled: Tensor) -> dict[str, Tensor]:
        z = self.drop(pooled)
        out = {}
        for task, head in self.heads.items():
            y = head(z)
            if task in ("va", "dominance"):
                y = torch.tanh(y)
            elif task == "stress":
                y = torch.sigmoid(y)
            out[task] = y
        return out


class TemporalEncoder(nn.Module):
    """Frames -> (tokens (B, 1 + N, d) with the CLS token first, valid (B, 1 + N), pooled (B, d)).
    The CLS token is never masked, so a clip whose every frame is masked still has an output."""

    def __init__(self, config: ClipConfig):
        super().__init__()
        d = config.d_model
        self.pooling = config.pooling
        self.inp = nn.Sequential(nn.LayerNorm(config.input_dim), nn.Linear(config.input_dim, d))
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, config.frames + 1, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, config.heads, dropout=config.dropout)
                                     for _ in range(config.layers)])
        self.norm = nn.LayerNorm(d)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        b, n = mask.shape
        if n > self.pos.shape[1] - 1:
            raise ValueError(f"{n} frames but the model was built for at most {self.pos.shape[1] - 1}")
        h = self.inp(x) * mask[..., None].to(x.dtype)  # masked frames carry no content
        h = torch.cat([self.cls.expand(b, -1, -1), h], dim=1) + self.pos[:, :n + 1]
        valid = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=mask.device), mask], dim=1)
        for block in self.blocks:
            h = block(h, valid)
        h = self.norm(h)
        pooled = h[:, 0] if self.pooling == "cls" else masked_mean(h[:, 1:], mask, h[:, 0])
        return h, valid, pooled


class TemporalTransformer(nn.Module):
    """forward(x (B, N, D), mask (B, N) bool) -> {task: (B, k)} raw head outputs."""

    def __init__(self, config: ClipConfig):
        super().__init__()
        self.config = config
        self.encoder = TemporalEncoder(config)
        self.heads = SchemaHeads(config.d_model, config.head_dims, config.dropout)

    def encode(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return self.encoder(x, mask)

    def forward(self, x: Tensor, mask: Tensor) -> dict[str, Tensor]:
        return self.heads(self.encoder(x, mask)[2])


class MeanPoolMLP(nn.Module):
    """The baseline without time: masked mean of the frames, then an MLP, then the heads."""

    def __init__(self, config: ClipConfig):
        super().__init__()
        self.config = config
        self.empty = nn.Parameter(torch.zeros(config.input_dim))  # stands for a clip with no face
        self.mlp = nn.Sequential(nn.LayerNorm(config.input_dim), nn.Linear(config.input_dim, config.hidden),
                                 nn.GELU(), nn.Dropout(config.dropout), nn.Linear(config.hidden, config.d_model),
                                 nn.GELU())
        self.heads = SchemaHeads(config.d_model, config.head_dims, config.dropout)

    def encode(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Per-frame features as tokens (a fusion model can attend to them) and the pooled vector."""
        pooled = self.mlp(masked_mean(x, mask, self.empty.expand(x.shape[0], -1)))
        tokens = torch.cat([pooled[:, None], self.mlp(x)], dim=1)
        valid = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        return tokens, valid, pooled

    def forward(self, x: Tensor, mask: Tensor) -> dict[str, Tensor]:
        pooled = self.mlp(masked_mean(x, mask, self.empty.expand(x.shape[0], -1)))
        return self.heads(pooled)


def build_visual(config: ClipConfig) -> nn.Module:
    if config.kind == "transformer":
        return TemporalTransformer(config)
    if config.kind == "mean_mlp":
        return MeanPoolMLP(config)
    raise ValueError(f"{config.kind!r} is not a visual temporal model kind")
