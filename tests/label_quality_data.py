"""Generated data for the label-issue and active-learning tests and benchmarks (learnable classes
from features, frames grouped into videos, injected label noise). Shared by tests/test_label_issues.py,
tests/test_active_learning.py, benchmarks/label_noise_bench.py and benchmarks/active_learning_bench.py."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Generated:
    features: np.ndarray  # (N, D)
    true: np.ndarray  # (N,) class codes, or (N, K) binary for multi-label, or (N, 2) V/A
    given: np.ndarray  # the same with injected noise
    wrong: np.ndarray  # (N,) bool: the injected errors
    groups: np.ndarray  # (N,) video id of each frame


def videos(n: int, n_videos: int, rng: np.random.Generator, *, skew: float = 1.0) -> np.ndarray:
    """(n,) video id per frame; video sizes drawn from a Dirichlet (skew < 1: a few long videos)."""
    sizes = rng.multinomial(n - n_videos, rng.dirichlet(np.full(n_videos, skew))) + 1
    return np.repeat(np.arange(n_videos), sizes)


def classes(n: int = 600, *, k: int = 6, d: int = 16, noise: float = 0.10, sep: float = 1.6,
            n_videos: int = 60, video_sd: float = 0.5, skew: float = 1.0, seed: int = 0) -> Generated:
    """Single-label classes learnable from features: each video shows one class; a frame is the
    class mean + a per-video offset + noise. `noise` of the labels flipped to another class."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, sep, (k, d))
    groups = videos(n, n_videos, rng, skew=skew)
    video_class = rng.integers(0, k, n_videos)
    video_class[:k] = np.arange(k)  # every class shown
    true = video_class[groups]
    offsets = rng.normal(0, video_sd, (n_videos, d))
    x = means[true] + offsets[groups] + rng.normal(0, 1, (n, d))
    wrong = np.zeros(n, bool)
    wrong[rng.choice(n, int(round(noise * n)), replace=False)] = True
    given = true.copy()
    given[wrong] = (true[wrong] + rng.integers(1, k, wrong.sum())) % k
    return Generated(x, true, given, wrong, groups)


def multilabel(n: int = 600, *, k: int = 5, d: int = 16, noise: float = 0.10, sep: float = 2.0,
               n_videos: int = 60, seed: int = 0) -> Generated:
    """Multi-label: each class present or not (rate ~30%), each present class shifts the features
    along its own direction; `noise` of the rows get one class toggled (added or dropped)."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(0, 1, (k, d))
    dirs *= sep / np.linalg.norm(dirs, axis=1, keepdims=True) * np.sqrt(d) / 2
    groups = videos(n, n_videos, rng)
    true = (rng.uniform(size=(n_videos, k)) < 0.3).astype(int)[groups]
    x = true @ dirs + rng.normal(0, 1, (n, d))
    wrong = np.zeros(n, bool)
    wrong[rng.choice(n, int(round(noise * n)), replace=False)] = True
    given = true.copy()
    rows = np.flatnonzero(wrong)
    given[rows, rng.integers(0, k, len(rows))] ^= 1
    return Generated(x, true, given, wrong, groups)


def valence_arousal(n: int = 600, *, d: int = 16, noise: float = 0.10, n_videos: int = 60,
                    rater_sd: float = 0.12, seed: int = 0) -> tuple[Generated, np.ndarray]:
    """V/A in [-1, 1] a smooth function of the features plus rater noise; `noise` of the rows get a
    wrong label (a random point of the square at least 0.6 away). Also (N,) annotator spread:
    the rater SD measured on rows labelled by three people (NaN elsewhere)."""
    rng = np.random.default_rng(seed)
    groups = videos(n, n_videos, rng)
    x = rng.normal(0, 1, (n, d)) + rng.normal(0, 0.5, (n_videos, d))[groups]
    w = rng.normal(0, 1, (d, 2)) / np.sqrt(d)
    true = np.tanh(x @ w)
    raters = true[:, None, :] + rng.normal(0, rater_sd, (n, 3, 2))
    multi = rng.uniform(size=n) < 0.3
    given = np.where(multi[:, None], raters.mean(1), raters[:, 0])
    spread = np.where(multi, raters.std(1, ddof=1).mean(1), np.nan)
    wrong = np.zeros(n, bool)
    for i in rng.choice(n, int(round(noise * n)), replace=False):
        while True:
            p = rng.uniform(-1, 1, 2)
            if np.linalg.norm(p - true[i]) >= 0.6:
                break
        given[i], wrong[i] = p, True
    return Generated(x, true, np.clip(given, -1, 1), wrong, groups), spread


def precision_recall(order: np.ndarray, flagged: np.ndarray, wrong: np.ndarray, *,
                     top_frac: float = 0.05) -> dict[str, float]:
    """precision of the top `top_frac` of the ranking, recall of the errors in the top
    noise-rate of it, and precision/recall of the flagged set."""
    n, errors = len(wrong), int(wrong.sum())
    top = order[:max(1, int(round(top_frac * n)))]
    hits_flagged = int((flagged & wrong).sum())
    return {"precision_top": float(wrong[top].mean()),
            "recall_top_noise_rate": float(wrong[order[:errors]].sum() / max(errors, 1)),
            "flagged": int(flagged.sum()),
            "precision_flagged": hits_flagged / max(int(flagged.sum()), 1),
            "recall_flagged": hits_flagged / max(errors, 1),
            "chance": errors / n}


def split_by_video(data: Generated, test_frac: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(pool rows, test rows): whole videos go to one side."""
    rng = np.random.default_rng(seed)
    vids = np.unique(data.groups)
    test_vids = rng.choice(vids, int(round(test_frac * len(vids))), replace=False)
    is_test = np.isin(data.groups, test_vids)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def learning_curve(data: Generated, strategy: str, *, seed: int = 0, start: int = 10, batch: int = 10,
                   budget: int = 200, per_group: int = 2) -> list[tuple[int, float]]:
    """Pool-based active learning with a logistic regression: [(labels, test macro-F1), ...].
    strategy: random | margin | entropy | margin+diversity | entropy+diversity."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from core.active_learning import select_batch

    pool, test = split_by_video(data, seed=seed)
    rng = np.random.default_rng(seed + 1000)
    x, y = data.features, data.true
    mean, std = x[pool].mean(0), x[pool].std(0)
    x = (x - mean) / std
    labelled = list(rng.choice(pool, start, replace=False))
    curve = []
    k = int(y.max()) + 1
    while True:
        present = np.unique(y[labelled])
        if len(present) > 1:
            model = LogisticRegression(max_iter=1000).fit(x[labelled], y[labelled])
            pred = model.predict(x[test])
        else:
            model, pred = None, np.full(len(test), present[0])
        curve.append((len(labelled), float(f1_score(y[test], pred, average="macro", labels=range(k),
                                                    zero_division=0))))
        if len(labelled) >= budget:
            return curve
        rest = np.setdiff1d(pool, labelled)
        if strategy == "random" or model is None:
            picks = rng.choice(rest, min(batch, len(rest)), replace=False)
        else:
            probs = np.zeros((len(rest), k))
            probs[:, model.classes_] = model.predict_proba(x[rest])
            method, _, diverse = strategy.partition("+")
            kw = dict(features=x[rest], groups=data.groups[rest], per_group=per_group,
                      labelled_features=x[labelled]) if diverse else {}
            picks = rest[select_batch(probs + 1e-9, batch, method=method, **kw)]
        labelled.extend(int(i) for i in picks)


def store_generated(s, data, *, labelled: int | None = None, va=None, name: str = "feat") -> None:
    """One sample per generated row: its features ('gen' kind), subject = its video, the noisy
    label (class code -> AFFECTNET8) on the first `labelled` rows (all: None), or a multi-label set
    (a binary given matrix: the dataset is made multi-label), or V/A (rows of `va`)."""
    from core.ingest.commit import commit_samples
    from core.ingest.records import PendingSample
    from core.label_schema import LabelSchema
    from core.rules import DerivationRules
    from core.store.datasets import get_or_create_dataset
    from core.taxonomy import AFFECTNET8

    multi = data.given.ndim == 2 and va is None  # a binary (N, K) multi-label matrix
    schema = LabelSchema(classes=tuple(AFFECTNET8), emotion_mode="multi") if multi else None
    ds = get_or_create_dataset(s, name, schema=schema)
    cols = [f"f{j}" for j in range(data.features.shape[1])]
    recs = [PendingSample(crop_sha256=f"{name}{i:08d}".ljust(64, "0"), crop_path=f"crops/{i}.png",
                          source_path=f"{i}.png", subject=f"video{data.groups[i]}",
                          emotion=AFFECTNET8[int(data.given[i])] if va is None and not multi
                          and (labelled is None or i < labelled) else None,
                          emotions=[AFFECTNET8[k] for k in np.flatnonzero(data.given[i])] if multi else None,
                          valence=None if va is None else float(va[i, 0]),
                          arousal=None if va is None else float(va[i, 1]),
                          features={"gen": (cols, data.features[i].tolist())})
            for i in range(len(data.features))]
    commit_samples(s, ds, recs, rules=DerivationRules(stress=None, va_table=None))
