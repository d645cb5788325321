"""`train` verb for `python -m core` (and `python -m training.cli train ...`, e.g. under torchrun)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

from training.config import TrainConfig

# CLI flag -> TrainConfig field, for the flags that map one to one (None = not given)
FLAGS: dict[str, tuple[str, type, str]] = {
    "--backbone": ("backbone", str, "mini_xception | resnet18 | mobilenet_v2"),
    "--init": ("init", str, "auto | pretrained | scratch | PATH of a checkpoint"),
    "--epochs": ("epochs", int, "number of epochs"),
    "--lr": ("lr", float, "learning rate"),
    "--batch-size": ("batch_size", int, "images per step (per process under torchrun)"),
    "--optimizer": ("optimizer", str, "adam | adamw"),
    "--weight-decay": ("weight_decay", float, "weight decay"),
    "--scheduler": ("scheduler", str, "plateau | cosine | none"),
    "--patience": ("patience", int, "early stopping patience in epochs (0 = off)"),
    "--label-smoothing": ("label_smoothing", float, "emotion label smoothing"),
    "--va-loss": ("va_loss", str, "ccc | mse | both"),
    "--train-split": ("train_split", str, "split to train on"),
    "--val-split": ("val_split", str, "split to validate on"),
    "--max-samples": ("max_samples", int, "cap per split, for tiny runs"),
    "--seed": ("seed", int, "random seed"),
    "--num-workers": ("num_workers", int, "DataLoader workers"),
    "--device": ("device", str, "auto | cpu | cuda | cuda:N"),
    "--name": ("name", str, "run name"),
}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", help="dataset name (required unless --run-id)")
    p.add_argument("--run-id", type=int, default=None,
                   help="train (or resume) this Run row, reading its config")
    for flag, (_, typ, help_) in FLAGS.items():
        p.add_argument(flag, type=typ, default=None, help=help_)
    p.add_argument("--tasks", default=None, help="comma-separated: emotion,va,stress")
    p.add_argument("--class-balanced", action="store_true", default=None,
                   help="sample every emotion equally often")
    p.add_argument("--class-weights", default=None, help="'balanced' or comma-separated weights")
    p.add_argument("--uncertainty", action="store_true", default=None,
                   help="learn the task weights (uncertainty weighting)")
    p.add_argument("--no-augment", action="store_true", help="no flips/rotations/colour/crops")
    p.add_argument("--no-amp", action="store_true", help="full precision on CUDA")
    p.add_argument("--no-resume", action="store_true", help="restart a run from scratch")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `train` on a `python -m core` subparsers object."""
    sp = subparsers.add_parser("train", help="train (or resume) a model on a dataset")
    sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_train_arguments(sp)
    sp.set_defaults(handler=main_train)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields the command line sets explicitly."""
    out = {field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _, _) in FLAGS.items()}
    out = {k: v for k, v in out.items() if v is not None}
    if args.tasks:
        out["tasks"] = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.class_balanced:
        out["class_balanced"] = True
    if args.class_weights:
        cw = args.class_weights
        out["class_weights"] = cw if cw == "balanced" else [float(v) for v in cw.split(",")]
    if args.uncertainty:
        out["uncertainty_weighting"] = True
    if args.no_augment:
        out.update(hflip=False, rotate=0.0, color=0.0, crop=0.0)
    if args.no_amp:
        out["amp"] = False
    if args.dataset:
        out["dataset"] = args.dataset
    return out


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """--run-id: the Run row's config with the given flags on top; else defaults + flags."""
    base: dict[str, Any] = {}
    if args.run_id is not None:
        from training.runs import get_run
        base = dict(get_run(args.run_id)["config"] or {})
    config = TrainConfig.from_dict(base | overrides(args))
    if not config.dataset:
        raise ValueError("--dataset is required (or --run-id of a run that names one)")
    return config


def main_train(args: argparse.Namespace) -> dict[str, Any]:
    from training.loop import train

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("training").setLevel(logging.INFO)  # one line per epoch
    config = config_from_args(args)
    result = train(config, run_id=args.run_id, resume=not args.no_resume)
    best = result["best"] or {}
    val = best.get("val") or {}
    return {"run_id": result["run_id"], "status": result["status"],
            "epochs_done": result["epochs_done"], "checkpoint": result["checkpoint"],
            "best": {"epoch": best.get("epoch"), "score": best.get("score"),
                     **{k: val.get(k) for k in ("accuracy", "macro_f1", "ccc_valence",
                                                "ccc_arousal", "stress_auroc", "combined")}},
            "history": [{k: h[k] for k in ("epoch", "train_loss", "score", "images_per_s")}
                        for h in result["history"]]}


def main(argv: list[str] | None = None) -> int:
    """`python -m training.cli train ...`: prints the result (rank 0 only under torchrun)."""
    parser = argparse.ArgumentParser(prog="python -m training.cli")
    add_commands(parser.add_subparsers(dest="verb", required=True))
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except (LookupError, ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.json and os.environ.get("RANK", "0") == "0":
            print(json.dumps({"ok": False, "error": str(exc)}))
        return 1
    if os.environ.get("RANK", "0") == "0":
        print(json.dumps({"ok": True, **result}, default=str) if args.json
              else json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
