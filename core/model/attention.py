"""Pre-norm attention blocks in plain torch (scaled_dot_product_attention): self-attention over a
sequence with a padding mask, and cross-attention from one sequence to another. Written out
rather than nn.TransformerEncoder so the ONNX export sees one simple graph (no fast paths)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Attention(nn.Module):
    """Multi-head attention of queries x over keys/values y; key_valid (B, Ny) True = attend."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"model width {dim} is not divisible by {heads} heads")
        self.heads, self.dropout = heads, dropout
        self.q, self.kv, self.out = nn.Linear(dim, dim), nn.Linear(dim, 2 * dim), nn.Linear(dim, dim)

    def forward(self, x: Tensor, y: Tensor, key_valid: Tensor) -> Tensor:
        b, nx, d = x.shape
        ny, h = y.shape[1], self.heads
        q = self.q(x).reshape(b, nx, h, d // h).transpose(1, 2)
        k, v = self.kv(y).reshape(b, ny, 2, h, d // h).permute(2, 0, 3, 1, 4)
        bias = torch.zeros(key_valid.shape, dtype=q.dtype, device=q.device)
        bias = bias.masked_fill(~key_valid, float("-inf"))[:, None, None, :]
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                             dropout_p=self.dropout if self.training else 0.0)
        return self.out(att.transpose(1, 2).reshape(b, nx, d))


class Block(nn.Module):
    """x + attn(norm x, norm y), then x + MLP(norm x). y None = self-attention."""

    def __init__(self, dim: int, heads: int, *, ff_mult: int = 2, dropout: float = 0.0):
        super().__init__()
        self.norm_x, self.norm_y = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dropout)
        self.norm_ff = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff_mult * dim), nn.GELU(), nn.Dropout(dropout),
                                nn.Linear(ff_mult * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, key_valid: Tensor, y: Tensor | None = None) -> Tensor:
        xn = self.norm_x(x)
        yn = xn if y is None else self.norm_y(y)
        x = x + self.drop(self.attn(xn, yn, key_valid))
        return x + self.drop(self.ff(self.norm_ff(x)))


def masked_mean(x: Tensor, valid: Tensor, fallback: Tensor) -> Tensor:
    """Mean of x (B, N, D) over the valid positions (B, N); `fallback` (B, D) where none is valid."""
    w = valid.to(x.dtype)[..., None]
    n = w.sum(1)
    mean = (x * w).sum(1) / n.clamp_min(1.0)
    return torch.where(n > 0, mean, fallback)
