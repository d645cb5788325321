"""Masked multi-task losses: equal to the plain losses on the labelled subset, 0 without labels."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.metrics import ccc
from training import losses as L


def batch(seed: int = 0, n: int = 12, k: int = 5):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=g, requires_grad=True)
    va = torch.tanh(torch.randn(n, 2, generator=g)).requires_grad_()
    stress = torch.rand(n, 1, generator=g).clamp(0.05, 0.95).requires_grad_()
    y = torch.randint(0, k, (n,), generator=g)
    t_va = torch.rand(n, 2, generator=g) * 2 - 1
    t_s = (torch.rand(n, generator=g) > 0.5).float()
    return logits, va, stress, y, t_va, t_s


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_masked_cross_entropy_equals_ce_on_labelled(smoothing, weighted):
    logits, _, _, y, _, _ = batch()
    w = torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0]) if weighted else None
    y_missing = y.clone()
    y_missing[[1, 4, 7]] = -1
    keep = y_missing >= 0
    loss, n = L.masked_cross_entropy(logits, y_missing, weight=w, label_smoothing=smoothing)
    ref = F.cross_entropy(logits[keep], y[keep], weight=w, label_smoothing=smoothing)
    assert n == 9
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)


def test_ccc_mse_bce_match_references_on_labelled_entries():
    _, va, stress, _, t_va, t_s = batch(1)
    t = t_va.clone()
    t[:3, 0], t[5:9, 1] = math.nan, math.nan
    loss, n = L.ccc_loss(va, t)
    p, tn = va.detach().numpy(), t.numpy()
    expected = np.mean([1 - ccc(tn[np.isfinite(tn[:, d]), d], p[np.isfinite(tn[:, d]), d]) for d in (0, 1)])
    assert n == 2 and loss.item() == pytest.approx(expected, rel=1e-5)
    mse, _ = L.masked_mse(va, t)
    mask = np.isfinite(tn)
    assert mse.item() == pytest.approx(np.mean((p[mask] - tn[mask]) ** 2), rel=1e-5)
    ts = t_s.clone()
    ts[::4] = math.nan
    bce, n = L.masked_bce(stress, ts)
    keep = torch.isfinite(ts)
    ref = F.binary_cross_entropy(stress.reshape(-1)[keep], ts[keep])
    assert n == keep.sum() and bce.item() == pytest.approx(ref.item(), rel=1e-4)


def test_soft_kl_on_distributions_with_missing_rows():
    logits, *_ = batch(2, k=4)
    target = torch.softmax(torch.randn(12, 4), -1)
    target[3] = math.nan
    loss, n = L.soft_kl(logits, target)
    keep = torch.isfinite(target).all(1)
    ref = F.kl_div(F.log_softmax(logits[keep], -1), target[keep], reduction="batchmean")
    assert n == 11 and loss.item() == pytest.approx(ref.item(), rel=1e-5)


@pytest.mark.parametrize("uncertainty", [False, True])
def test_task_without_labels_adds_zero_and_zero_gradient(uncertainty):
    logits, va, stress, y, t_va, t_s = batch(3)
    crit = L.MultiTaskLoss(uncertainty=uncertainty, va_loss="both")
    out = {"emotion": logits, "va": va, "stress": stress}
    targets = {"emotion": y, "va": torch.full_like(t_va, math.nan),
               "stress": torch.full_like(t_s, math.nan)}
    total, parts = crit(out, targets)
    total.backward()
    assert torch.isfinite(total) and parts["va"] == 0 and parts["stress"] == 0
    assert torch.count_nonzero(va.grad) == 0 and torch.count_nonzero(stress.grad) == 0
    assert torch.count_nonzero(logits.grad) > 0
    if uncertainty:
        assert crit.log_vars["va"].grad == 0 and crit.log_vars["emotion"].grad != 0
    # nothing labelled at all: exactly 0, finite zero gradients everywhere
    logits.grad = None
    nothing = {"emotion": torch.full_like(y, -1), **{k: v for k, v in targets.items() if k != "emotion"}}
    total, _ = crit(out, nothing)
    total.backward()
    assert total.item() == 0.0 and torch.count_nonzero(logits.grad) == 0
    assert all(torch.isfinite(p.grad).all() for p in (logits, va, stress))


def test_fixed_task_weights_and_disabled_tasks():
    logits, va, stress, y, t_va, t_s = batch(4)
    out = {"emotion": logits, "va": va, "stress": stress}
    targets = {"emotion": y, "va": t_va, "stress": t_s}
    crit = L.MultiTaskLoss(task_weights={"emotion": 1.0, "va": 0.5, "stress": 0.25})
    total, parts = crit(out, targets)
    assert total.item() == pytest.approx(parts["emotion"] + 0.5 * parts["va"] + 0.25 * parts["stress"], rel=1e-6)
    only = L.MultiTaskLoss(tasks=["emotion"])
    total, parts = only(out, targets)
    assert set(parts) == {"emotion"} and total.item() == pytest.approx(parts["emotion"].item())


def test_uncertainty_weighting_is_kendall_form():
    logits, va, stress, y, t_va, t_s = batch(5)
    crit = L.MultiTaskLoss(uncertainty=True)
    with torch.no_grad():
        for t, s in zip(("emotion", "va", "stress"), (0.3, -0.2, 0.5), strict=True):
            crit.log_vars[t].fill_(s)
    out = {"emotion": logits, "va": va, "stress": stress}
    total, parts = crit(out, {"emotion": y, "va": t_va, "stress": t_s})
    expected = sum(L.UNCERTAINTY_SCALE[t] * math.exp(-s) * parts[t].item() + 0.5 * s
                   for t, s in (("emotion", 0.3), ("va", -0.2), ("stress", 0.5)))
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert set(crit.weights()) == {"emotion", "va", "stress"}
