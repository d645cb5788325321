"""Fusion of two trained temporal models (the seed's emotion + traits model): both frozen, each
one's token sequence attends to the other's (cross-attention), a shared MLP, one head per task."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from core.label_schema import LabelSchema
from core.model.attention import Block
from core.model.clip_config import VISUAL_KINDS, ClipConfig, merge_schemas
from core.model.temporal import SchemaHeads, build_visual


class FusionModel(nn.Module):
    """forward(x (B, N, D), mask (B, N)) -> {task: (B, k)}; both members read the same frames."""

    def __init__(self, config: ClipConfig):
        super().__init__()
        self.config = config
        members = [ClipConfig.from_dict(m) for m in config.members]
        if any(m.kind not in VISUAL_KINDS for m in members):
            raise ValueError(f"fusion members must be {VISUAL_KINDS} models, got {[m.kind for m in members]}")
        if members[0].input_dim != members[1].input_dim:
            raise ValueError(f"the members read different frame embeddings ({members[0].input_dim} vs "
                             f"{members[1].input_dim} values per frame)")
        self.members = nn.ModuleList([build_visual(m) for m in members])
        self.freeze_members()
        d = config.d_model
        self.proj = nn.ModuleList([nn.Linear(m.d_model, d) for m in members])
        self.a_to_b = nn.ModuleList([Block(d, config.heads, dropout=config.dropout) for _ in range(config.layers)])
        self.b_to_a = nn.ModuleList([Block(d, config.heads, dropout=config.dropout) for _ in range(config.layers)])
        self.mlp = nn.Sequential(nn.LayerNorm(2 * d), nn.Linear(2 * d, config.hidden), nn.GELU(),
                                 nn.Dropout(config.dropout), nn.Linear(config.hidden, d), nn.GELU())
        self.heads = SchemaHeads(d, config.head_dims, config.dropout)

    def freeze_members(self) -> None:
        for p in self.members.parameters():
            p.requires_grad_(False)
        self.members.eval()

    def train(self, mode: bool = True) -> FusionModel:
        super().train(mode)
        self.members.eval()  # frozen: no dropout, whatever the fusion layers do
        return self

    def forward(self, x: Tensor, mask: Tensor) -> dict[str, Tensor]:
        ta, va, _ = self.members[0].encode(x, mask)
        tb, vb, _ = self.members[1].encode(x, mask)
        a, b = self.proj[0](ta), self.proj[1](tb)
        for ab, ba in zip(self.a_to_b, self.b_to_a):
            a, b = ab(a, vb, b), ba(b, va, a)
        return self.heads(self.mlp(torch.cat([a[:, 0], b[:, 0]], dim=-1)))


def fusion_from_members(a: nn.Module, b: nn.Module, *, schema: LabelSchema | None = None,
                        tasks: list[str] | None = None, **options) -> FusionModel:
    """A FusionModel holding copies of two trained temporal models' weights (frozen). The heads
    follow `schema`/`tasks`, by default both members' tasks (see merge_schemas)."""
    ca, cb = a.config, b.config
    merged, merged_tasks = merge_schemas(ca.label_schema, ca.tasks, cb.label_schema, cb.tasks)
    schema = schema or merged
    config = ClipConfig(kind="fusion", schema=schema.to_dict(), tasks=tasks or merged_tasks,
                        frames=min(ca.frames, cb.frames), input_dim=ca.input_dim,
                        members=[ca.to_dict(), cb.to_dict()], sampling=ca.sampling,
                        embedder=ca.embedder, **options)
    model = FusionModel(config)
    model.members[0].load_state_dict(a.state_dict())
    model.members[1].load_state_dict(b.state_dict())
    model.freeze_members()
    return model
