"""Label-issue precision on generated data with injected label noise (issue 14).

Features from which the true class is learnable (frames grouped into videos), 10% of the
labels flipped to another class (multi-label: one class toggled; V/A: a rating moved >= 0.6
away). Out-of-sample predictions: 5-fold cross-validated, grouped by video
(core.label_issues.cross_val_*, the "cross-val" source of the likely-wrong queue). Reported per
mode, mean over seeds: precision of the top 5% of the ranking, recall of the injected errors
within the top 10% (the noise rate) and within cleanlab's flagged set, and that set's precision.

    python benchmarks/label_noise_bench.py [--n 1000] [--seeds 5] [--quick] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core import label_issues as li  # noqa: E402
from tests import label_quality_data as gen  # noqa: E402

KEYS = ("precision_top", "recall_top_noise_rate", "precision_flagged", "recall_flagged")


def one(mode: str, n: int, seed: int, sep: float) -> dict[str, float]:
    if mode == "single":
        d = gen.classes(n, k=8, sep=sep, n_videos=n // 10, seed=seed)
        issues = li.single_label_issues(d.given, li.cross_val_pred_probs(
            d.features, d.given, n_classes=8, groups=d.groups, seed=seed))
    elif mode == "multi-label":
        d = gen.multilabel(n, k=6, sep=sep, n_videos=n // 10, seed=seed)
        issues = li.multilabel_issues(d.given, li.cross_val_multilabel_probs(
            d.features, d.given, groups=d.groups, seed=seed))
    else:
        d, spread = gen.valence_arousal(n, n_videos=n // 10, seed=seed)
        issues = li.va_issues(d.given, li.cross_val_regression(d.features, d.given, groups=d.groups, seed=seed),
                              spread=spread, cut=2.5)
    return gen.precision_recall(issues.order, issues.flagged, d.wrong, top_frac=0.05)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    n, seeds = (600, 2) if args.quick else (args.n, args.seeds)
    cases = [("single", 1.6, "8 classes, well separated"), ("single", 1.0, "8 classes, overlapping"),
             ("multi-label", 2.0, "6 classes"), ("V/A", 0.0, "ridge, residual / annotator spread")]
    print(f"{n} samples, {n // 10} videos, 10% labels wrong, 5-fold grouped cross-validation, {seeds} seeds")
    print(f"{'mode':42s} {'prec@5%':>8s} {'rec@10%':>8s} {'flagged':>8s} {'prec(fl)':>8s} {'rec(fl)':>8s} {'s':>5s}")
    out = {"n": n, "seeds": seeds, "noise": 0.10, "modes": {}}
    for mode, sep, what in cases:
        t = time.perf_counter()
        runs = [one(mode, n, seed, sep) for seed in range(seeds)]
        mean = {k: float(np.mean([r[k] for r in runs])) for k in (*KEYS, "flagged")}
        mean["min_precision_top"] = float(min(r["precision_top"] for r in runs))
        name = f"{mode} ({what})"
        out["modes"][name] = mean
        print(f"{name:42s} {mean['precision_top']:8.2f} {mean['recall_top_noise_rate']:8.2f} "
              f"{mean['flagged']:8.0f} {mean['precision_flagged']:8.2f} {mean['recall_flagged']:8.2f} "
              f"{time.perf_counter() - t:5.1f}")
    print("chance precision = 0.10 (the noise rate)")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
