"""Active learning vs random labelling order on generated data (issue 14): labels needed to
reach the same macro-F1.

Generated frames of videos (a few long videos, many short: skewed sizes) whose class is
learnable from 16 features; pool and test sets are different videos. Start from 10 random
labels, then label batches of 10 chosen by each strategy, refit a logistic regression, and
record test macro-F1 up to the budget. Strategies: random order; margin uncertainty alone;
margin + diversity (at most 2 frames per video per batch, k-center greedy over the features of
the 4 x batch most uncertain: core.active_learning.select_batch, what the "label next" queue
runs). Printed: the mean learning curve per strategy over seeds, and the labels each needs to
reach the target = random order's mean macro-F1 at the full budget (ratio < 1: fewer labels),
and per seed the labels to reach that seed's own random-order final macro-F1.

    python benchmarks/active_learning_bench.py [--n 1500] [--seeds 5] [--budget 200] [--quick] [--json]
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

from core.active_learning import labels_to_reach  # noqa: E402
from tests import label_quality_data as gen  # noqa: E402

STRATEGIES = ("random", "margin", "margin+diversity", "entropy+diversity")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1500)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    n, seeds, budget = (600, 2, 100) if args.quick else (args.n, args.seeds, args.budget)
    t = time.perf_counter()
    curves: dict[str, list[list[tuple[int, float]]]] = {s: [] for s in STRATEGIES}
    for seed in range(seeds):
        data = gen.classes(n, k=6, sep=0.8, noise=0.0, n_videos=n // 15, skew=0.3, seed=seed)
        for strategy in STRATEGIES:
            curves[strategy].append(gen.learning_curve(data, strategy, seed=seed, budget=budget))
    counts = [c for c, _ in curves["random"][0]]
    mean = {s: np.mean([[f for _, f in c] for c in cs], axis=0) for s, cs in curves.items()}
    target = float(mean["random"][-1])
    print(f"{n} frames in {n // 15} videos (skewed lengths), 6 classes, pool/test split by video, "
          f"batches of 10, {seeds} seeds; test macro-F1, mean over seeds")
    print(f"{'labels':>18s} " + " ".join(f"{c:5d}" for c in counts[::2]))
    for s in STRATEGIES:
        print(f"{s:>18s} " + " ".join(f"{v:5.3f}" for v in mean[s][::2]))
    out = {"n": n, "seeds": seeds, "budget": budget, "target_macro_f1": target, "labels": counts,
           "curves": {s: [float(v) for v in m] for s, m in mean.items()}, "labels_to_target": {}}
    print(f"target = random order's macro-F1 at {budget} labels: {target:.3f}")
    base = labels_to_reach(list(zip(counts, mean["random"])), target)
    for s in STRATEGIES:
        need = labels_to_reach(list(zip(counts, mean[s])), target)
        per_seed = [labels_to_reach(list(zip(counts, [f for _, f in c])), r[-1][1])  # that seed's random final
                    for c, r in zip(curves[s], curves["random"])]
        ratio = None if need is None or not base else need / base
        out["labels_to_target"][s] = {"labels": need, "ratio_vs_random": ratio, "per_seed": per_seed}
        print(f"{s:>18s}: {need if need is not None else f'> {budget}'} labels"
              + (f" ({ratio:.2f}x random)" if ratio is not None else "")
              + f"; per seed (target: that seed's random final) {per_seed}")
    out["seconds"] = time.perf_counter() - t
    print(f"took {out['seconds']:.0f} s")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
