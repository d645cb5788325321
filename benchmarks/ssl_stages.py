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
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EMOTIONS = ["Anger", "Sad", "Happy", "Neutral"]
AUS_R = [1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45]
AUS_C = sorted(AUS_R + [28])
GAZE = [f"gaze_{e}_{a}" for e in (0, 1) for a in "xyz"] + ["gaze_angle_x", "gaze_angle_y"]
POSE = [f"pose_{p}" for p in ("Tx", "Ty", "Tz", "Rx", "Ry", "Rz")]
LANDMARKS = [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
FEATURES = GAZE + POSE + LANDMARKS + [f"AU{a:02d}_r" for a in AUS_R] + [f"AU{a:02d}_c" for a in AUS_C]
BROWS = {"Anger": (-0.5, 0.0), "Sad": (0.5, -0.2), "Happy": (0.0, 0.1), "Neutral": (0.0, 0.0)}
MOUTH = {"Anger": -0.2, "Sad": -0.8, "Happy": 1.0, "Neutral": 0.0}  # curvature: + = smile


@dataclass
class Spec:
    subjects: int = 40
    frames: int = 60  # per subject, split evenly over the emotions
    emotion_dims: int = 4  # latent factors whose mean depends on the emotion
    nuisance_dims: int = 4  # latent factors unrelated to it
    class_sep: float = 1.8  # std of the class means in the latent space
    subject_shift: float = 0.7  # std of each subject's latent shift (personalisation matters)
    identity: float = 1.0  # std of each subject's per-column offset (face shape)
    noise: float = 3.5  # per-column noise std; the latent signal per column has std ~1
    image_size: int = 64
    seed: int = 0


def _units(v: np.ndarray) -> np.ndarray:
    """Unit-free columns (N, D) -> OpenFace-like units, column group by column group."""
    out = v.copy()
    g, p, n_lm, n_r = len(GAZE), len(POSE), len(LANDMARKS), len(AUS_R)
    out[:, :g] *= 0.08
    out[:, g:g + 3] = out[:, g:g + 3] * 15 + np.array([0, 10, 550])
    out[:, g + 3:g + p] *= 0.06
    base = np.r_[np.linspace(180, 420, 68), np.linspace(160, 460, 68)]
    out[:, g + p:g + p + n_lm] = out[:, g + p:g + p + n_lm] * 2.5 + base
    r = g + p + n_lm
    out[:, r:r + n_r] = np.clip(1.2 + 0.7 * out[:, r:r + n_r], 0, 5)
    out[:, r + n_r:] = (out[:, r + n_r:] > 0.4).astype(np.float64)
    return out


def draw_face(emotion: str, z: np.ndarray, look: np.ndarray, size: int, rng: np.random.Generator
              ) -> np.ndarray:
    """A gray face: brows and mouth follow the emotion (scaled by the frame's intensity z[0]),
    face width/brightness/eye spacing follow the subject (look), position jitters."""
    k = size / 64
    img = np.full((size, size), 40 + 10 * look[3], np.float32)
    cx, cy = size / 2 + rng.normal(0, 1.5 * k), size / 2 + rng.normal(0, 1.5 * k)
    w, h = (20 + 2 * look[0]) * k, 26 * k
    cv2.ellipse(img, (int(cx), int(cy)), (int(w), int(h)), 0, 0, 360, 150 + 25 * look[1], -1)
    gain = 1 + 0.3 * np.tanh(z[0])
    inner, outer = BROWS[emotion]
    ex = (8 + look[2]) * k
    for side in (-1, 1):
        eye = (int(cx + side * ex), int(cy - 4 * k))
        cv2.circle(img, eye, int(2.5 * k), 30, -1)
        y_in, y_out = cy - 11 * k + 5 * k * inner * gain, cy - 11 * k + 5 * k * outer * gain
        cv2.line(img, (int(cx + side * 3 * k), int(y_in)), (int(cx + side * 13 * k), int(y_out)), 40,
                 max(1, int(2 * k)))
    curve = MOUTH[emotion] * gain * 5 * k
    xs = np.linspace(-9, 9, 12) * k
    pts = np.stack([cx + xs, cy + 12 * k - curve * (1 - (xs / (9 * k)) ** 2)], 1)
    cv2.polylines(img, [pts.astype(np.int32)], False, 35, max(1, int(2 * k)))
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_dataset(root: Path, spec: Spec) -> dict:
    """<Emotion>/<subject>.csv + <subject>_aligned/frame_det_00_NNNNNN.bmp for every subject and
    emotion, in OpenFace FeatureExtraction's format (only columns the importer reads)."""
    rng = np.random.default_rng(spec.seed)
    k, d = spec.emotion_dims + spec.nuisance_dims, len(FEATURES)
    mix = rng.normal(size=(k, d)) / np.sqrt(k)  # the shared low-dimensional structure
    means = np.zeros((len(EMOTIONS), k))
    means[:, :spec.emotion_dims] = rng.normal(size=(len(EMOTIONS), spec.emotion_dims)) * spec.class_sep
    per = spec.frames // len(EMOTIONS)
    header = ["frame", " face_id", " timestamp", " confidence", " success"] + [f" {c}" for c in FEATURES]
    for s in range(spec.subjects):
        subject = f"p{s:03d}"
        shift = rng.normal(size=k) * spec.subject_shift
        identity = rng.normal(size=d) * spec.identity
        look = rng.normal(size=4)
        for e, emotion in enumerate(EMOTIONS):
            z = means[e] + shift + rng.normal(size=(per, k))
            cols = _units(z @ mix + identity + rng.normal(size=(per, d)) * spec.noise)
            folder = root / emotion / f"{subject}_aligned"
            folder.mkdir(parents=True, exist_ok=True)
            lines = [",".join(header)]
            for f in range(per):
                lines.append(", ".join([str(f + 1), "0", f"{f / 30:.3f}", "0.98", "1"]
                                       + [f"{v:.4f}" for v in cols[f]]))
                face = draw_face(emotion, z[f], look, spec.image_size, rng)
                cv2.imwrite(str(folder / f"frame_det_00_{f + 1:06d}.bmp"), cv2.cvtColor(face, cv2.COLOR_GRAY2BGR))
            (root / emotion / f"{subject}.csv").write_text("\n".join(lines) + "\n")
    return {"subjects": spec.subjects, "frames": per * len(EMOTIONS) * spec.subjects, "dims": d}


def import_dataset(root: Path, dataset: str) -> dict:
    """Through the real OpenFace importer: emotion from the folder, stress and V/A derived."""
    from core.ingest import import_path
    from core.rules import DerivationRules
    from core.taxonomy import get_taxonomy

    report = import_path("openface", root, dataset=dataset, taxonomy=get_taxonomy("openface4", EMOTIONS),
                         rules=DerivationRules(va_table="openface"))
    return {"added": report.added, "errors": len(report.errors)}


def split(dataset: str, seed: int) -> dict:
    """70/30 (pretrain / labelled), then 70/20/10 (ssl / classifier / finetune) within labelled."""
    from collections import Counter

    from sqlalchemy import select

    from core.splits import split_dataset
    from core.store.datasets import require_dataset
    from core.store.db import write_session
    from core.store.models import Sample

    with write_session() as s, s.begin():
        ds = require_dataset(s, dataset)
        s.query(Sample).filter(Sample.dataset_id == ds.id).update({"split": None})
        split_dataset(s, ds.id, "70/30", seed=seed)
        split_dataset(s, ds.id, "70/20/10", seed=seed)
        rows = s.execute(select(Sample.split, Sample.subject).where(Sample.dataset_id == ds.id)).all()
    frames, subjects = Counter(r[0] for r in rows), {}
    for sp, subj in rows:
        subjects.setdefault(sp, set()).add(subj)
    return {sp: {"frames": frames[sp], "subjects": len(subjects[sp])} for sp in sorted(frames)}


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
