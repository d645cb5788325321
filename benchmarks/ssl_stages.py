"""SSL stages vs scratch on a synthetic-but-structured OpenFace dataset (features, then crops).

Data: S subjects x F frames over Anger/Sad/Happy/Neutral (the OpenFace pipeline's folders), one
<Emotion>/<subject>.csv + <subject>_aligned/*.bmp per subject and emotion. Each frame has a few
latent factors: some carry the emotion (class means), some are nuisance (pose, lighting), all
shifted per subject; the OpenFace columns (gaze, pose, 2D landmarks, AU intensities and
presence) are a fixed random linear map of them plus identity offsets and heavy per-column
noise, in OpenFace-like units. Crops are drawn faces whose brows and mouth follow the emotion,
with per-subject face shape and brightness. The folders go through the real OpenFace importer
(stress and V/A derived from the emotion with the OpenFace table), the dataset is split
70/30 then 70/20/10 (subject-grouped), and training.ssl.run_ssl_pipeline runs for several
split/training seeds.

    python benchmarks/ssl_stages.py [--subjects 40] [--frames 60] [--seeds 3] [--no-crops] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.ssl_synthetic import Spec, import_dataset, write_dataset  # noqa: E402
from training.ssl_synthetic import ssl_splits as split  # noqa: E402

STAGES = ("encoder", "classifier", "finetune")
LABELS = {"encoder": "encoder (linear probe)", "classifier": "classifier", "finetune": "finetune (per subject)"}


def summarise(results: list[dict]) -> dict:
    """Per stage and arm: mean and std over seeds of combined, macro-F1 and CCC."""
    out = {}
    for stage in STAGES:
        row = {}
        for arm in ("scratch", "ssl", "gain"):
            for k in ("combined", "macro_f1", "ccc_va"):
                vals = [r["stages"][stage][arm][k] for r in results if r["stages"][stage][arm][k] is not None]
                row[f"{arm}_{k}"] = (float(np.mean(vals)), float(np.std(vals))) if vals else (None, None)
        row["gains_positive"] = sum(r["stages"][stage]["gain"]["combined"] > 0 for r in results)
        out[stage] = row
    before = [r["stages"]["finetune"]["before"] for r in results]
    out["finetune"]["before_scratch"] = float(np.mean([b["scratch"]["combined"] for b in before]))
    out["finetune"]["before_ssl"] = float(np.mean([b["ssl"]["combined"] for b in before]))
    return out


def table(summary: dict, n: int) -> str:
    """stage | scratch | SSL | gain (combined = macro-F1 + CCC; mean +- std over n seeds)."""
    def f(v: tuple) -> str:
        return "   n/a" if v[0] is None else f"{v[0]:.3f} +- {v[1]:.3f}"

    lines = [f"{'stage':24s} {'scratch':>15s} {'SSL':>15s} {'gain':>16s}  {'gain>0':>6s}"
             f"  {'dF1':>7s} {'dCCC':>7s}"]
    for stage in STAGES:
        r = summary[stage]
        lines.append(f"{LABELS[stage]:24s} {f(r['scratch_combined']):>15s} {f(r['ssl_combined']):>15s} "
                     f"{f(r['gain_combined']):>16s}  {r['gains_positive']:>3d}/{n:<2d}"
                     f"  {r['gain_macro_f1'][0]:+.3f} {r['gain_ccc_va'][0]:+.3f}")
    ft = summary["finetune"]
    lines.append(f"(before fine-tuning, same held-out frames: scratch {ft['before_scratch']:.3f}, "
                 f"SSL {ft['before_ssl']:.3f})")
    return "\n".join(lines)


def run_modality(dataset: str, modality: str, seeds: list[int], **overrides) -> tuple[list[dict], float]:
    from training.ssl import run_ssl_pipeline

    results, t0 = [], time.perf_counter()
    for seed in seeds:
        counts = split(dataset, seed)
        r = run_ssl_pipeline(dataset, modality=modality, seed=seed, **overrides)
        r["splits"] = counts
        results.append(r)
        print(f"  {modality} seed {seed}: combined gain " + ", ".join(
            f"{s} {r['stages'][s]['gain']['combined']:+.3f}" for s in STAGES), file=sys.stderr)
    return results, time.perf_counter() - t0


CROPS = {"pretrain_epochs": 15, "epochs": 20, "finetune_epochs": 10, "pretrain_batch_size": 128,
         "input_size": 32}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--subjects", type=int, default=40)
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--seeds", type=int, default=5, help="split + training seeds for features")
    p.add_argument("--crop-seeds", type=int, default=1)
    p.add_argument("--crops-budget", type=float, default=180.0, help="seconds; skip crops above")
    p.add_argument("--no-crops", action="store_true")
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny models: 1 is fastest)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="20 subjects x 20 frames, 1 seed, no crops")
    args = p.parse_args()
    if args.quick:
        args.subjects, args.frames, args.seeds, args.no_crops = 20, 20, 1, True
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="ssl-bench-") as tmp:
        os.environ["AFFECTLAB_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["AFFECTLAB_DB_URL"] = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            report = bench(Path(tmp), args)
        finally:
            from core.store.db import dispose_all
            dispose_all()
    if args.json:
        print(json.dumps(report, default=str))


def bench(tmp: Path, args: argparse.Namespace) -> dict:
    t0 = time.perf_counter()
    info = write_dataset(tmp / "openface", Spec(subjects=args.subjects, frames=args.frames))
    info |= import_dataset(tmp / "openface", "ssl-bench")
    info["prepare_s"] = round(time.perf_counter() - t0, 1)
    info["splits_seed0"] = split("ssl-bench", 0)
    print(f"data: {info}", file=sys.stderr)
    report: dict = {"data": info}
    res, secs = run_modality("ssl-bench", "features", list(range(args.seeds)))
    report["features"] = {"summary": summarise(res), "seconds": round(secs, 1), "runs": res}
    print(f"\nfeatures (features_mlp on {info['dims']} OpenFace columns), {args.seeds} seeds, "
          f"{secs:.0f} s; combined = macro-F1 + CCC(V/A)\n" + table(report["features"]["summary"], args.seeds))
    if not args.no_crops:
        report["crops"] = crops(args)
    return report


def crops(args: argparse.Namespace) -> dict:
    """The crops modality if its estimated time fits the budget: a pass with one epoch per
    stage, times the most epochs any stage runs (rough, errs high)."""
    from training.ssl import run_ssl_pipeline

    t0 = time.perf_counter()
    split("ssl-bench", 0)
    run_ssl_pipeline("ssl-bench", modality="crops", seed=0, **(CROPS | {
        "pretrain_epochs": 1, "epochs": 1, "finetune_epochs": 1}))
    one = time.perf_counter() - t0
    estimate = one * max(CROPS["pretrain_epochs"], CROPS["epochs"]) * args.crop_seeds
    if estimate > args.crops_budget:
        msg = (f"crops: skipped, estimated {estimate:.0f} s for {args.crop_seeds} seed(s) "
               f"> budget {args.crops_budget:.0f} s (one-epoch pass took {one:.0f} s)")
        print("\n" + msg)
        return {"skipped": msg}
    res, secs = run_modality("ssl-bench", "crops", list(range(args.crop_seeds)), **CROPS)
    summary = summarise(res)
    print(f"\ncrops (tiny mini_xception, {CROPS['input_size']}px, SimCLR), {args.crop_seeds} seed(s), "
          f"{secs:.0f} s\n" + table(summary, args.crop_seeds))
    return {"summary": summary, "seconds": round(secs, 1), "runs": res}


if __name__ == "__main__":
    main()
