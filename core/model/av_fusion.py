"""The audio branch (a small CNN over MFCC / log-mel images) and audio-visual fusion: late concat or
cross-attention, with per-modality ablation (fused / visual only / audio only) by masking.

A missing modality (no face in any frame, a clip without audio) and an ablated one are the same
thing to the model: its tokens are masked and a learned stand-in takes their place, so a model
trained with modality dropout answers from the other modality alone.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from core.audio import AudioParams
from core.model.attention import Block, masked_mean
from core.model.clip_config import MODALITIES, ClipConfig
from core.model.temporal import SchemaHeads, TemporalEncoder

POOL = 4  # each conv stage halves time and frequency; three stages: 8 columns per token


class AudioEncoder(nn.Module):
    """(B, rows, width) image + (B, width) valid columns -> tokens (B, 1 + width/8, d) with the
    pooled audio first (a learned 'no audio' vector when no column is valid), their validity, pooled."""

    def __init__(self, params: AudioParams, d: int, dropout: float = 0.0):
        super().__init__()

        def stage(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                                 nn.ReLU(inplace=True), nn.MaxPool2d(2))

        self.convs = nn.Sequential(stage(1, 16), stage(16, 32), stage(32, 64))
        self.proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(64, d))
        self.absent = nn.Parameter(torch.zeros(d))

    def forward(self, image: Tensor, valid: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        w = valid.to(image.dtype)[:, None, :].expand_as(image)
        n = w.sum((1, 2), keepdim=True).clamp_min(1.0)
        # per-clip standardisation over all rows and valid columns: keeps the spectral shape (a
        # per-row normalisation would erase a steady tone), removes level and recording gain
        mean = (image * w).sum((1, 2), keepdim=True) / n
        var = (((image - mean) * w) ** 2).sum((1, 2), keepdim=True) / n
        x = ((image - mean) / (var + 1e-5).sqrt() * w)[:, None]
        f = self.convs(x).mean(dim=2).transpose(1, 2)  # (B, width/8, 64)
        cols = f.shape[1]
        tok_valid = valid[:, :cols * 8].reshape(valid.shape[0], cols, 8).any(-1)
        tokens = self.proj(f)
        present = tok_valid.any(-1, keepdim=True)
        pooled = masked_mean(tokens, tok_valid, self.absent.expand(tokens.shape[0], -1))
        pooled = torch.where(present, pooled, self.absent.expand_as(pooled))
        all_valid = torch.cat([torch.ones_like(tok_valid[:, :1]), tok_valid], dim=1)
        return torch.cat([pooled[:, None], tokens], dim=1), all_valid, pooled


class AudioVisualModel(nn.Module):
    """forward(x (B, N, D), mask (B, N), audio (B, rows, width), audio_valid (B, width)) -> heads.
    kind "audio": the audio branch alone; "av_concat": pooled visual ++ pooled audio -> MLP;
    "av_cross": each modality's tokens attend to the other's, then the two summaries -> MLP.
    `modality` ("fused" | "visual" | "audio") masks the other modality (ablation)."""

    def __init__(self, config: ClipConfig):
        super().__init__()
        self.config = config
        self.modality = "fused"
        d, params = config.d_model, AudioParams.from_dict(config.audio)
        self.audio = AudioEncoder(params, d, config.dropout)
        self.visual = TemporalEncoder(config) if config.kind != "audio" else None
        if config.kind == "av_cross":
            self.v_to_a = nn.ModuleList([Block(d, config.heads, dropout=config.dropout) for _ in range(config.layers)])
            self.a_to_v = nn.ModuleList([Block(d, config.heads, dropout=config.dropout) for _ in range(config.layers)])
        width = d if config.kind == "audio" else 2 * d
        self.mlp = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, config.hidden), nn.GELU(),
                                 nn.Dropout(config.dropout), nn.Linear(config.hidden, d), nn.GELU())
        self.heads = SchemaHeads(d, config.head_dims, config.dropout)

    def set_modality(self, modality: str) -> AudioVisualModel:
        if modality not in MODALITIES:
            raise ValueError(f"modality {modality!r} is not one of {', '.join(MODALITIES)}")
        self.modality = modality
        return self

    def forward(self, x: Tensor, mask: Tensor, audio: Tensor, audio_valid: Tensor) -> dict[str, Tensor]:
        if self.modality == "visual":
            audio_valid = torch.zeros_like(audio_valid)
        elif self.modality == "audio":
            mask = torch.zeros_like(mask)
        ta, va, pa = self.audio(audio, audio_valid)
        if self.visual is None:
            return self.heads(self.mlp(pa))
        tv, vv, pv = self.visual(x, mask)
        if self.config.kind == "av_cross":
            for v2a, a2v in zip(self.v_to_a, self.a_to_v):
                tv, ta = v2a(tv, va, ta), a2v(ta, vv, tv)
            pv, pa = tv[:, 0], ta[:, 0]
        return self.heads(self.mlp(torch.cat([pv, pa], dim=-1)))
