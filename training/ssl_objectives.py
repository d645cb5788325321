"""Self-supervised objectives: masked-feature reconstruction (vectors) and NT-Xent (crops)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.model.features_mlp import FeaturesMLP


class MLPHead(nn.Module):
    """Linear -> GELU -> Linear: the reconstruction decoder or the SimCLR projection head."""

    def __init__(self, c_in: int, hidden: int, c_out: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(c_in, hidden), nn.GELU(), nn.Linear(hidden, c_out))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1))


def random_mask(n: int, d: int, ratio: tuple[float, float], generator: torch.Generator | None = None
                ) -> Tensor:
    """(n, d) bool, True = masked: per row, round(r * d) dimensions, r ~ U(ratio), at least 1."""
    lo, hi = ratio
    if not 0 < lo <= hi < 1:
        raise ValueError(f"mask ratio must satisfy 0 < low <= high < 1, got {ratio}")
    r = lo + (hi - lo) * torch.rand(n, 1, generator=generator)
    k = (r * d).round().clamp_min(1)
    ranks = torch.rand(n, d, generator=generator).argsort(1).argsort(1)
    return ranks < k


def masked_reconstruction_loss(encoder: FeaturesMLP, decoder: nn.Module, x: Tensor, mask: Tensor
                               ) -> Tensor:
    """MSE on the masked dimensions between the decoder's output and the standardised input.

    Masked dimensions of the raw input are set to the training mean (0 after standardisation)
    before the encoder sees them; the target is the standardised original.
    """
    target = encoder.standardise(x)
    x_in = torch.where(mask, encoder.mean.expand_as(target), x.flatten(1).float())
    recon = decoder(encoder(x_in))
    return F.mse_loss(recon[mask], target[mask])


def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.2) -> Tensor:
    """SimCLR's normalised-temperature cross-entropy over 2B views: view i's positive is its other
    view, the other 2B - 2 embeddings are negatives."""
    b = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    return F.cross_entropy(sim, target)
