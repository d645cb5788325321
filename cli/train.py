"""Verbs of the training system: train (or resume) a run, evaluate a run's best checkpoint.

`affectlab train --run-id N` is what the job queue starts (also under torchrun for DDP).
"""
from typing import Annotated, Any

import typer

from cli.progress import log_to_stderr
from cli.verb import JsonOpt, Result, verb, with_options
from core.train_config import CHOICES, INITS

app = typer.Typer()

# CLI flag -> (TrainConfig field, type, help) for the flags that map one to one (None = not given)
FLAGS: dict[str, tuple[str, type, str]] = {
    "--backbone": ("backbone", str, " | ".join(CHOICES["backbone"])),
    "--init": ("init", str, " | ".join(INITS) + " | PATH of a checkpoint"),
    "--epochs": ("epochs", int, "number of epochs"),
    "--lr": ("lr", float, "learning rate"),
    "--batch-size": ("batch_size", int, "images per step (per process under torchrun)"),
    "--optimizer": ("optimizer", str, " | ".join(CHOICES["optimizer"])),
    "--weight-decay": ("weight_decay", float, "weight decay"),
    "--scheduler": ("scheduler", str, " | ".join(CHOICES["scheduler"])),
    "--patience": ("patience", int, "early stopping patience in epochs (0 = off)"),
    "--label-smoothing": ("label_smoothing", float, "emotion label smoothing"),
    "--va-loss": ("va_loss", str, " | ".join(CHOICES["va_loss"])),
    "--train-split": ("train_split", str, "split to train on"),
    "--val-split": ("val_split", str, "split to validate on"),
    "--max-samples": ("max_samples", int, "cap per split, for tiny runs"),
    "--seed": ("seed", int, "random seed"),
    "--num-workers": ("num_workers", int, "DataLoader workers"),
    "--device": ("device", str, "auto | cpu | cuda | cuda:N"),
    "--name": ("name", str, "run name"),
}


def _param(flag: str) -> str:
    return flag[2:].replace("-", "_")


CONFIG_FLAGS = {_param(flag): (Annotated[typ | None, typer.Option(flag, help=help_)], None)
                for flag, (_, typ, help_) in FLAGS.items()}  # one option per FLAGS entry, None = not given


def overrides(options: dict[str, Any]) -> dict[str, Any]:
    """The TrainConfig fields the command line sets explicitly."""
    out = {field: options.get(_param(flag)) for flag, (field, _, _) in FLAGS.items()}
    out = {k: v for k, v in out.items() if v is not None}
    if options.get("tasks"):
        out["tasks"] = [t.strip() for t in options["tasks"].split(",") if t.strip()]
    if options.get("class_balanced"):
        out["class_balanced"] = True
    cw = options.get("class_weights")
    if cw:
        out["class_weights"] = cw if cw == "balanced" else [float(v) for v in cw.split(",")]
    if options.get("uncertainty"):
        out["uncertainty_weighting"] = True
    if options.get("no_augment"):
        out.update(hflip=False, rotate=0.0, color=0.0, crop=0.0)
    if options.get("no_amp"):
        out["amp"] = False
    if options.get("dataset"):
        out["dataset"] = options["dataset"]
    return out


def config_from_options(options: dict[str, Any]):
    """--run-id: the Run row's config with the given flags on top; else defaults + flags."""
    from core.train_config import TrainConfig
    from training.runs import get_run

    base: dict[str, Any] = {}
    if options.get("run_id") is not None:
        base = dict(get_run(options["run_id"])["config"] or {})
    config = TrainConfig.from_dict(base | overrides(options))
    if not config.dataset:
        raise ValueError("--dataset is required (or --run-id of a run that names one)")
    return config


def train_summary(result: dict[str, Any]) -> Result:
    """The verb's result: status, best epoch's metrics, one history row per epoch."""
    best = result["best"] or {}
    val = best.get("val") or {}
    return {"run_id": result["run_id"], "status": result["status"],
            "epochs_done": result["epochs_done"], "checkpoint": result["checkpoint"],
            "best": {"epoch": best.get("epoch"), "score": best.get("score"),
                     **{k: val.get(k) for k in ("accuracy", "macro_f1", "ccc_valence",
                                                "ccc_arousal", "stress_auroc", "combined")}},
            "history": [{k: h[k] for k in ("epoch", "train_loss", "score", "images_per_s")}
                        for h in result["history"]]}


@verb(app, "train", help="train (or resume) a model on a dataset")
@with_options(CONFIG_FLAGS)
def train(
    dataset: Annotated[str | None, typer.Option(help="dataset name (required unless --run-id)")] = None,
    run_id: Annotated[int | None, typer.Option(
        "--run-id", help="train (or resume) this Run row, reading its config")] = None,
    tasks: Annotated[str | None, typer.Option(help="comma-separated: emotion,va,stress")] = None,
    class_balanced: Annotated[bool, typer.Option(
        "--class-balanced", help="sample every emotion equally often")] = False,
    class_weights: Annotated[str | None, typer.Option(
        "--class-weights", help="'balanced' or comma-separated weights")] = None,
    uncertainty: Annotated[bool, typer.Option(
        "--uncertainty", help="learn the task weights (uncertainty weighting)")] = False,
    no_augment: Annotated[bool, typer.Option("--no-augment", help="no flips/rotations/colour/crops")] = False,
    no_amp: Annotated[bool, typer.Option("--no-amp", help="full precision on CUDA")] = False,
    no_resume: Annotated[bool, typer.Option("--no-resume", help="restart a run from scratch")] = False,
    queue: Annotated[bool, typer.Option(
        "--queue", help="only queue the run: the job worker trains it (started if none runs)")] = False,
    json_out: JsonOpt = False,
    **flags: Any,
) -> Result:
    from training.loop import train as run_training

    log_to_stderr("training")  # one line per epoch
    if run_id is not None:
        from training.clip_run import is_clip_run, run_clip_training
        from training.runs import get_run

        if is_clip_run(get_run(run_id)["config"]):  # a clip run queued from the Train page
            return run_clip_training(run_id)
    options = {**flags, "dataset": dataset, "run_id": run_id, "tasks": tasks,
               "class_balanced": class_balanced, "class_weights": class_weights,
               "uncertainty": uncertainty, "no_augment": no_augment, "no_amp": no_amp}
    config = config_from_options(options)
    if queue:
        from core.jobs.store import create_run
        from core.jobs.worker import ON_DEMAND_IDLE_EXIT_S, ensure_worker

        if run_id is not None:
            raise ValueError("--queue makes a new run; use `affectlab resume --run N` for an old one")
        run_id = create_run(config)
        worker = ensure_worker(idle_exit_s=ON_DEMAND_IDLE_EXIT_S)
        return {"run_id": run_id, "status": "queued", "worker_pid": worker["pid"]}
    return train_summary(run_training(config, run_id=run_id, resume=not no_resume))


def _f(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_report(r: Result) -> str:
    """Accuracy, macro-F1, per-class table, confusion matrix, V/A and stress metrics as text."""
    if "modalities" in r:  # a clip run: metrics per modality
        return clip_report(r)
    lab = r["labelled"]
    lines = [f"run {r['run_id']} (epoch {r['epoch']}), split {r['split']}: {r['n']} samples "
             f"(labelled: emotion {lab['emotion']}, V/A {lab['va']}, stress {lab['stress']}); "
             f"{r['stored']} predictions stored",
             f"heads: {', '.join(f'{k} {v}' for k, v in r['flags'].items())}; "
             f"mean sample loss {_f(r['sample_loss_mean'], 4)}; combined {_f(r['combined'])}"]
    if r["emotion"]:
        lines += ["", *emotion_lines(r)]
    for task in ("valence", "arousal"):
        m = r[task]
        if m:
            lines.append(f"{task:8s} CCC {_f(m['ccc'])}  Pearson {_f(m['pearson'])}  "
                         f"RMSE {_f(m['rmse'])}  MAE {_f(m['mae'])}  (n={m['n']})")
    s = r["stress"]
    if s:
        lines.append(f"stress   AUROC {_f(s['auroc'])}  F1 {_f(s['f1'])}  MAE {_f(s['mae'])}  "
                     f"(n={s['n']}, {s['positives']} positive)")
    return "\n".join(lines)


def clip_report(r: Result) -> str:
    """A clip run's evaluation: per modality its held-out metrics and mean clip loss."""
    lines = [f"run {r['run_id']}: {r['n']} clips ({r['held_out']} held out); {r['stored']} predictions stored"]
    for modality, m in r["modalities"].items():
        lines.append(f"{modality:7s} loss {_f(r['sample_loss_mean'].get(modality), 4)}  "
                     + "  ".join(f"{k} {_f(v)}" for k, v in m.items()))
    return "\n".join(lines)


def emotion_lines(r: Result) -> list[str]:
    """Accuracy, the per-class table and the confusion matrix."""
    e = r["emotion"]
    names = e["classes"]
    w = max(len(c) for c in [*names, "class"]) + 1
    lines = [f"accuracy {_f(e['accuracy'])}  macro-F1 {_f(e['macro_f1'])}  (n={e['n']})", "",
             "class".ljust(w) + "precision  recall      F1  support"]
    for c in names:
        m = e["per_class"][c]
        lines.append(c.ljust(w) + f"{m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:7.3f} "
                     f"{m['support']:8d}")
    cw = max(5, *(len(c[:8]) + 1 for c in names))
    lines += ["", "confusion (rows true, columns predicted)",
              "".ljust(w) + "".join(c[:8].rjust(cw) for c in names)]
    for c, row in zip(names, e["confusion"]):
        lines.append(c.ljust(w) + "".join(str(v).rjust(cw) for v in row))
    return lines


@verb(app, "evaluate", text=format_report, help="evaluate a run's best checkpoint on a split")
def evaluate(
    run: Annotated[int, typer.Option(help="Run id")],
    split: Annotated[str, typer.Option(
        help="split of the run's dataset (default test; a clip run evaluates every clip, held out as it trained)")] = "test",
    batch_size: Annotated[int, typer.Option(help="images per forward pass")] = 64,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N")] = "auto",
    no_store: Annotated[bool, typer.Option(
        "--no-store", help="only report: write no predictions and no Run metrics")] = False,
    json_out: JsonOpt = False,
) -> Result:
    from core.clips.run_config import is_clip_run
    from training.eval_run import evaluate_run
    from training.runs import get_run

    if is_clip_run(get_run(run)["config"]):  # every clip, per modality; split: the run's held-out clips
        from training.clip_eval import evaluate_clip_run

        return evaluate_clip_run(run, store=not no_store, device=device)
    return evaluate_run(run, split=split, store=not no_store, batch_size=batch_size, device=device)
