"""train(): seeded, exactly resumable, cancellable, DDP-aware training; rank 0 owns DB and files."""
from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from core.config import get_settings
from core.jobs.status import RunStatus
from core.model.checkpoint import CheckpointWriteError, save_checkpoint
from core.train_config import TrainConfig
from training import dist, runs
from training.build import build_for_training
from training.data import LABEL_KEYS
from training.evaluate import autocast, evaluate, summary
from training.setup import amp_dtype, load_data, make_loaders, make_loss, make_optimizer, make_scheduler
from training.state import load_state, rng_state, save_state, seed_everything, set_rng_state

log = logging.getLogger(__name__)
SYNC_EVERY = 10  # DDP: steps between all-reduces of the cancel flag
Progress = Callable[[dict[str, Any]], None]


def run_dir(run_id: int) -> Path:
    return get_settings().models_dir / f"run-{run_id}"


def train(config: TrainConfig, *, run_id: int | None = None, resume: bool = True,
          progress: Progress | None = None) -> dict:
    """Train config on its dataset; returns {run_id, status, history, best, checkpoint ...}.

    Without run_id a Run row is created. With resume, a run that has a state.pt continues
    from its last finished epoch (bit-exact on the same machine). Under torchrun every rank
    calls this; rank 0 writes the Run row and the checkpoints.
    """
    ctx = dist.setup(config.device)
    try:
        if run_id is None:
            run_id = dist.broadcast(ctx, runs.create_run(config, status=RunStatus.STARTING) if ctx.is_main else None)
        return Trainer(config, run_id, ctx, progress).run(resume)
    finally:
        dist.teardown(ctx)


class Trainer:
    def __init__(self, cfg: TrainConfig, run_id: int, ctx: dist.DistContext,
                 progress: Progress | None):
        self.cfg, self.run_id, self.ctx, self.progress_cb = cfg, run_id, ctx, progress
        self.dir = run_dir(run_id)
        self.history: list[dict] = []
        self.best: dict | None = None
        self.best_score, self.bad_epochs, self.done = -math.inf, 0, False
        self.cancel_pending, self.global_step, self.images = False, 0, 0
        self.stopped_early, self.stop_reason = False, None

    def run(self, resume: bool) -> dict:
        try:
            status = runs.mark_started(self.run_id, self.cfg) if self.ctx.is_main else None
            if dist.broadcast(self.ctx, status) in (RunStatus.CANCELLING, RunStatus.CANCELLED):
                return self.finish(RunStatus.CANCELLED)
            self.setup()
            start = self.restore() if resume else 0
            return self.finish(RunStatus.SUCCEEDED if self.done else self.fit(start))
        except BaseException as exc:
            if self.ctx.is_main:
                error = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc) \
                    if isinstance(exc, CheckpointWriteError) else traceback.format_exc()[-4000:]
                try:
                    runs.finish(self.run_id, RunStatus.FAILED, error=error)
                except Exception:  # never hide the original error
                    log.exception("run %s: could not record the failure", self.run_id)
            raise

    def setup(self) -> None:
        cfg, ctx = self.cfg, self.ctx
        seed_everything(cfg.seed)
        self.data = load_data(cfg)
        trained = self.data.train.trained_heads(cfg.tasks)
        self.model = build_for_training(cfg, self.data.classes, trained,
                                        schema=self.data.schema).to(ctx.device)
        self.train_loader, self.val_loader, self.loader_gen = make_loaders(
            cfg, self.data, self.model.config, ctx)
        self.loss_fn = make_loss(cfg, self.data, ctx.device)
        self.optimizer = make_optimizer(cfg, self.model, self.loss_fn)
        self.scheduler = make_scheduler(cfg, self.optimizer)
        self.amp = amp_dtype(cfg, ctx.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)
        self.net = self.model
        if ctx.distributed:
            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)

    def restore(self) -> int:
        """Load state.pt if present; returns the number of epochs already done."""
        path = self.dir / "state.pt"
        if not path.exists():
            return 0
        st = load_state(path)
        changed = sorted(k for k, v in self.cfg.to_dict().items() if st["config"].get(k) != v)
        if changed:
            log.warning("run %s resumes with changed settings %s; the optimiser and scheduler "
                        "continue from their saved state", self.run_id, changed)
        self.model.load_state_dict(st["model"])
        self.model.config.thresholds = st.get("thresholds")  # multi-label: tuned at the best epoch
        self.optimizer.load_state_dict(st["optimizer"])
        if self.scheduler is not None and st["scheduler"] is not None:
            self.scheduler.load_state_dict(st["scheduler"])
        self.scaler.load_state_dict(st["scaler"])
        self.loss_fn.load_state_dict(st["loss"])
        self.history, self.best = list(st["history"]), st["best"]
        # finished: early-stopped, or reached the epochs asked for now (more epochs continue it)
        self.done = bool(st["done"]) and (st["stopped_early"] or st["epoch"] >= self.cfg.epochs)
        self.stopped_early = bool(st["stopped_early"])
        self.stop_reason = st.get("stop_reason") if self.stopped_early else None
        self.best_score, self.bad_epochs = float(st["best_score"]), int(st["bad_epochs"])
        set_rng_state(st["rng"])
        log.info("run %s: resumed after epoch %d", self.run_id, st["epoch"])
        return int(st["epoch"])

    def fit(self, start: int) -> str:
        cfg = self.cfg
        self.t_start, self.step_start = time.monotonic(), start * len(self.train_loader)
        self.global_step, self.last_beat = self.step_start, -math.inf
        for epoch in range(start, cfg.epochs):
            t0 = time.monotonic()
            stats = self.train_epoch(epoch)
            if stats is None:
                return RunStatus.CANCELLED
            val = evaluate(self.model, self.val_loader, self.ctx.device, self.data.classes,
                           amp_dtype=self.amp, loss_fn=self.loss_fn) if self.val_loader else None
            record = dist.broadcast(self.ctx, self.record(epoch, stats, val, time.monotonic() - t0))
            improved = self.update_best(record, val)
            stop_early = cfg.patience > 0 and self.bad_epochs >= cfg.patience
            self.stopped_early = stop_early
            if stop_early:
                self.stop_reason = (f"stopped early at epoch {epoch + 1}/{cfg.epochs}: no "
                                    f"improvement for {self.bad_epochs} epochs")
            self.done = stop_early or epoch + 1 == cfg.epochs
            if self.ctx.is_main:
                self.save(epoch + 1, improved, record)
            if self.ctx.is_main:
                log.info("run %s epoch %d/%d: train loss %.4f, score %.4f, %.0f img/s",
                         self.run_id, epoch + 1, cfg.epochs, record["train_loss"],
                         record["score"], record["images_per_s"])
            if self.done:
                return RunStatus.SUCCEEDED
            if self.poll_cancel(force=True):
                return RunStatus.CANCELLED
        return RunStatus.SUCCEEDED

    def train_epoch(self, epoch: int) -> dict | None:
        """One pass over the train split; None when a cancel request stopped it."""
        self.net.train()
        self.train_loader.sampler.set_epoch(epoch)
        self.train_loader.dataset.set_epoch(epoch)
        self.loader_gen.manual_seed(self.cfg.seed * 7919 + epoch)
        steps = len(self.train_loader)
        total = torch.zeros((), device=self.ctx.device)
        parts: dict[str, torch.Tensor] = {}
        t0, images = time.monotonic(), 0
        for step, batch in enumerate(self.train_loader, 1):
            loss, losses = self.train_step(batch)
            total += loss
            for k, v in losses.items():
                parts[k] = parts.get(k, 0) + v
            images += len(batch["x"]) * self.ctx.world_size
            if self.tick(epoch, step, steps, loss):
                return None
        dt = max(time.monotonic() - t0, 1e-9)
        return {"loss": float(total / steps), "losses": {k: float(v / steps) for k, v in parts.items()},
                "images_per_s": images / dt}

    def train_step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        dev = self.ctx.device
        x = batch["x"].to(dev, non_blocking=True)
        targets = {k: batch[k].to(dev, non_blocking=True) for k in LABEL_KEYS if k in batch}
        with autocast(dev, self.amp):
            out = self.net(x)
        loss, losses = self.loss_fn(out, targets)  # float32, outside autocast
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        dist.average_grads(self.ctx, list(self.loss_fn.parameters()))
        if self.cfg.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.images += len(x) * self.ctx.world_size
        return loss.detach(), losses

    def progress_info(self, epoch: int, step: int, steps: int, loss: torch.Tensor) -> dict:
        elapsed = max(time.monotonic() - self.t_start, 1e-9)
        total = self.cfg.epochs * steps
        rate = (self.global_step - self.step_start) / elapsed
        return {"epoch": epoch + 1, "epochs": self.cfg.epochs, "step": step, "steps": steps,
                "global_step": self.global_step, "total_steps": total,
                "eta_s": round((total - self.global_step) / rate, 1) if rate > 0 else None,
                "images_per_s": round(self.images / elapsed, 1), "loss": float(loss),
                "world_size": self.ctx.world_size}

    def tick(self, epoch: int, step: int, steps: int, loss: torch.Tensor) -> bool:
        """After each step: progress callback, heartbeat + cancel poll every heartbeat_s
        (rank 0), cancel flag shared over ranks every SYNC_EVERY steps. True = stop now."""
        self.global_step += 1
        due = time.monotonic() - self.last_beat >= self.cfg.heartbeat_s
        if self.ctx.is_main and (due or self.progress_cb is not None):
            info = self.progress_info(epoch, step, steps, loss)
            if self.progress_cb is not None:
                self.progress_cb(info)
            if due:
                self.last_beat = time.monotonic()
                self.cancel_pending |= runs.heartbeat(self.run_id, info) == RunStatus.CANCELLING
        if self.ctx.distributed and step % SYNC_EVERY and step != steps:
            return False
        return dist.any_rank(self.ctx, self.cancel_pending)

    def poll_cancel(self, force: bool = False) -> bool:
        if self.ctx.is_main and force:
            self.cancel_pending |= runs.get_run(self.run_id)["status"] == RunStatus.CANCELLING
        return dist.any_rank(self.ctx, self.cancel_pending)

    def record(self, epoch: int, stats: dict, val: dict | None, seconds: float) -> dict:
        """One history entry; score = val combined, else -val loss, else -train loss."""
        v = summary(val)
        score = v.get("combined")
        if score is None:
            score = -v["loss"] if v.get("loss") is not None else -stats["loss"]
        name = v.get("combined_name") if v.get("combined") is not None else (
            "-val_loss" if v.get("loss") is not None else "-train_loss")
        return {"epoch": epoch + 1, "lr": self.optimizer.param_groups[0]["lr"],
                "train_loss": stats["loss"], "train": stats["losses"], "val": v,
                "score": score, "score_name": name, "seconds": round(seconds, 3),
                "images_per_s": round(stats["images_per_s"], 1), "world_size": self.ctx.world_size}

    def update_best(self, record: dict, val: dict | None) -> bool:
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(record["score"])
        elif self.scheduler is not None:
            self.scheduler.step()
        self.history.append(record)
        improved = self.best is None or record["score"] > self.best_score
        if improved:
            self.best_score, self.bad_epochs = record["score"], 0
            self.best = {"epoch": record["epoch"], "score": record["score"],
                         "score_name": record["score_name"], "val": val}
            if val and val.get("tuned_thresholds"):  # multi-label: best.pt carries them
                self.model.config.thresholds = dict(val["tuned_thresholds"])
        else:
            self.bad_epochs += 1
        return improved

    def save(self, epochs_done: int, improved: bool, record: dict) -> None:
        extra = {"run_id": self.run_id, "epoch": epochs_done, "train_config": self.cfg.to_dict()}
        if improved:
            save_checkpoint(self.dir / "best.pt", self.model, metrics=self.best, extra=extra)
        save_checkpoint(self.dir / "last.pt", self.model, metrics=record, extra=extra)
        save_state(self.dir / "state.pt", {
            "epoch": epochs_done, "done": self.done, "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "model": self.model.state_dict(), "thresholds": self.model.config.thresholds,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict(), "loss": self.loss_fn.state_dict(),
            "rng": rng_state(), "history": self.history, "best": self.best,
            "best_score": self.best_score, "bad_epochs": self.bad_epochs,
            "config": self.cfg.to_dict()})
        runs.write_metrics(self.run_id, self.metrics(), str(self.dir / "best.pt"))

    def metrics(self) -> dict:
        """The run's metrics; score_name says what the model-selection score sums."""
        name = (self.best or {}).get("score_name") or (self.history[-1].get("score_name") if self.history else None)
        return {"history": self.history, "best": self.best, "score_name": name}

    def finish(self, status: str) -> dict:
        best = self.dir / "best.pt"
        reason = self.stop_reason if status == RunStatus.SUCCEEDED else None
        result = {"run_id": self.run_id, "status": status, "epochs_done": len(self.history),
                  "stop_reason": reason,
                  "history": self.history, "best": self.best,
                  "checkpoint": str(best) if best.exists() else None,
                  "last": str(self.dir / "last.pt") if (self.dir / "last.pt").exists() else None}
        if self.ctx.is_main:
            last = self.history[-1] if self.history else {}
            runs.finish(self.run_id, status, stop_reason=reason, progress={
                "epoch": len(self.history), "epochs": self.cfg.epochs, "done": True,
                "status": status, "score": last.get("score"), "stop_reason": reason})
        return result
