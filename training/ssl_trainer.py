"""One supervised SSL stage through the standard training loop, on rows chosen by the caller
(a split, one subject's frames, held-out frames) and on feature vectors or crops."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from core.jobs.status import RunStatus
from core.train_config import TrainConfig
from training import dist, runs
from training.build import build_for_training
from training.features_data import FeatureRows, feature_loaders
from training.loop import Trainer
from training.setup import RunData, amp_dtype, make_loaders, make_loss, make_optimizer, make_scheduler
from training.state import seed_everything


@dataclass
class StageConfig(TrainConfig):
    """A TrainConfig (stored in the Run row and the checkpoint) plus what an SSL stage adds."""
    stage: str = ""  # probe | classifier | finetune
    features: list[str] = field(default_factory=list)  # feature kinds, fixed order; [] = crops
    subject: str | None = None  # finetune: the one subject whose frames train and evaluate
    freeze_epochs: int = 0  # epochs the backbone stays frozen (heads only); >= epochs = probe


class StageTrainer(Trainer):
    """training.loop.Trainer on given rows (FeatureRows -> features_mlp batches, else crops),
    with the backbone frozen (weights and BatchNorm statistics) for cfg.freeze_epochs epochs.
    Single process; resuming is not used (each stage is a new run)."""

    def __init__(self, cfg: StageConfig, run_id: int, ctx: dist.DistContext, data: RunData):
        super().__init__(cfg, run_id, ctx, None)
        self.given = data
        self.frozen = False

    def setup(self) -> None:
        cfg, ctx = self.cfg, self.ctx
        seed_everything(cfg.seed)
        self.data = self.given
        trained = self.data.train.trained_heads(cfg.tasks)
        self.model = build_for_training(cfg, self.data.classes, trained,
                                        schema=self.data.schema).to(ctx.device)
        if isinstance(self.data.train, FeatureRows):
            self.train_loader, self.val_loader, self.loader_gen = feature_loaders(
                cfg, self.data.train, self.data.val, len(self.data.classes))
        else:
            self.train_loader, self.val_loader, self.loader_gen = make_loaders(
                cfg, self.data, self.model.config, ctx)
        self.loss_fn = make_loss(cfg, self.data, ctx.device)
        self.optimizer = make_optimizer(cfg, self.model, self.loss_fn)
        self.scheduler = make_scheduler(cfg, self.optimizer)
        self.amp = amp_dtype(cfg, ctx.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)
        self.net = self.model

    def train_epoch(self, epoch: int) -> dict | None:
        self.frozen = epoch < self.cfg.freeze_epochs
        for p in self.model.backbone.parameters():
            p.requires_grad_(not self.frozen)  # no grad -> AdamW leaves it (and its decay) alone
        return super().train_epoch(epoch)

    def train_step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        if self.frozen:
            self.model.backbone.eval()  # keep BatchNorm statistics (mini_xception) as pre-trained
        return super().train_step(batch)


def train_stage(cfg: StageConfig, data: RunData) -> dict:
    """Run one stage as a Run row; returns training.loop.train's result plus "final" (the
    last epoch's val summary: no epoch is chosen on the evaluation rows) and "last"."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise RuntimeError("SSL stages run in one process, not under torchrun")
    ctx = dist.setup(cfg.device)
    try:
        run_id = runs.create_run(cfg, status=RunStatus.STARTING)
        result = StageTrainer(cfg, run_id, ctx, data).run(resume=False)
    finally:
        dist.teardown(ctx)
    if result["status"] != RunStatus.SUCCEEDED:
        raise RuntimeError(f"stage {cfg.stage} (run {run_id}) ended {result['status']}")
    result["final"] = result["history"][-1]["val"] if result["history"] else {}
    return result
