"""`evaluate` verb for `python -m core`: a run's best checkpoint on one split, stored for review."""
from __future__ import annotations

import argparse
from typing import Any


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `evaluate` on a `python -m core` subparsers object."""
    sp = subparsers.add_parser("evaluate", help="evaluate a run's best checkpoint on a split")
    sp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    sp.add_argument("--run", type=int, required=True, help="Run id")
    sp.add_argument("--split", default="test", help="split of the run's dataset (default test)")
    sp.add_argument("--batch-size", type=int, default=64, help="images per forward pass")
    sp.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    sp.add_argument("--no-store", action="store_true",
                    help="only report: write no predictions and no Run metrics")
    sp.set_defaults(handler=main_evaluate)


def main_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from training.eval_run import evaluate_run

    result = evaluate_run(args.run, split=args.split, store=not args.no_store,
                          batch_size=args.batch_size, device=args.device)
    if args.json:
        return result
    print(format_report(result))
    # core.cli prints the returned dict after a non-JSON report: keep that short
    return {"run_id": result["run_id"], "split": result["split"], "stored": result["stored"]}


def _f(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_report(r: dict[str, Any]) -> str:
    """Accuracy, macro-F1, per-class table, confusion matrix, V/A and stress metrics as text."""
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


def emotion_lines(r: dict[str, Any]) -> list[str]:
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
