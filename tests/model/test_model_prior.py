"""V/A and stress prior from emotion probabilities."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.model.prior import CIRCUMPLEX_VA, STRESS_PRIOR, STRESS_UNDECIDED, prior_va_stress
from core.taxonomy import AFFECTNET8, FER7


def test_tables_cover_affectnet8_in_range():
    assert set(CIRCUMPLEX_VA) == set(STRESS_PRIOR) == set(AFFECTNET8)
    assert all(-1 <= v <= 1 and -1 <= a <= 1 for v, a in CIRCUMPLEX_VA.values())
    assert all(0 <= s <= 1 for s in STRESS_PRIOR.values())
    assert CIRCUMPLEX_VA["Neutral"] == (0.0, 0.0)
    assert STRESS_PRIOR["Anger"] == STRESS_PRIOR["Sad"] == 1.0
    assert STRESS_PRIOR["Happy"] == STRESS_PRIOR["Neutral"] == 0.0
    assert STRESS_PRIOR["Surprise"] == STRESS_UNDECIDED


@pytest.mark.parametrize("cls", AFFECTNET8)
def test_one_hot_gives_the_table_values(cls):
    probs = torch.zeros(1, 8)
    probs[0, AFFECTNET8.index(cls)] = 1.0
    va, stress = prior_va_stress(probs, AFFECTNET8)
    assert va.shape == (1, 2) and stress.shape == (1,)
    torch.testing.assert_close(va[0], torch.tensor(CIRCUMPLEX_VA[cls]))
    assert stress[0].item() == pytest.approx(STRESS_PRIOR[cls])


def test_random_distributions_stay_in_range_and_mix_linearly():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(8), size=50)
    va, stress = prior_va_stress(probs, AFFECTNET8)
    assert isinstance(va, np.ndarray) and va.shape == (50, 2) and stress.shape == (50,)
    assert np.all(np.abs(va) <= 1) and np.all((stress >= 0) & (stress <= 1))
    table = np.array([CIRCUMPLEX_VA[c] for c in AFFECTNET8])
    np.testing.assert_allclose(va, probs @ table, atol=1e-5)


def test_other_spellings_and_edge_rows():
    probs = np.zeros((2, 7), np.float32)
    probs[0, FER7.index("Angry")] = 1.0  # FER-7 spelling maps to the Anger concept
    va, stress = prior_va_stress(probs, FER7)  # row 1 sums to 0: neutral answer
    np.testing.assert_allclose(va[0], CIRCUMPLEX_VA["Anger"])
    assert stress[0] == 1.0 and stress[1] == STRESS_UNDECIDED and np.all(va[1] == 0)
    va, stress = prior_va_stress(np.array([1.0, 1.0]), ["Happy", "Bored"])  # unknown class: 0, 0.5
    np.testing.assert_allclose(va[0], np.array(CIRCUMPLEX_VA["Happy"]) / 2)
    assert stress[0] == pytest.approx(0.25)
    with pytest.raises(ValueError):
        prior_va_stress(np.ones((1, 3)), AFFECTNET8)


def test_predict_uses_the_prior_for_untrained_heads(fer_model):
    x = torch.randn(4, 1, 64, 64)
    out = fer_model.predict(x)
    va, stress = prior_va_stress(out["emotion"], AFFECTNET8)
    assert torch.equal(out["va"], va) and torch.equal(out["stress"][:, 0], stress)
    torch.testing.assert_close(out["emotion"].sum(-1), torch.ones(4))


def test_numpy_and_torch_paths_agree_and_apply_prior_keeps_trained_heads():
    from core.model.prior import apply_prior

    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(8), size=6).astype(np.float32)
    va_np, s_np = prior_va_stress(probs, AFFECTNET8)
    va_t, s_t = prior_va_stress(torch.from_numpy(probs), AFFECTNET8)
    np.testing.assert_allclose(va_np, va_t.numpy(), atol=1e-6)  # float32 matmul order
    np.testing.assert_allclose(s_np, s_t.numpy(), atol=1e-6)
    head_va, head_s = np.full((6, 2), 0.9, np.float32), np.full((6, 1), 0.1, np.float32)
    va, s = apply_prior(probs, head_va, head_s, trained={"emotion": True, "va": True},
                        classes=AFFECTNET8)
    assert va is head_va and s.shape == (6, 1)  # V/A trained: kept; stress: prior, shape kept
    np.testing.assert_array_equal(s[:, 0], s_np)
    va, s = apply_prior(probs, head_va, head_s, trained={"va": True, "stress": True},
                        classes=AFFECTNET8)
    assert va is head_va and s is head_s


def test_head_flags_and_the_one_note():
    from core.model.config import ModelConfig
    from core.model.prior import PRIOR_NOTE, head_flags, prior_note

    cfg = ModelConfig(trained={"emotion": True, "va": False, "stress": True})
    assert head_flags(cfg) == head_flags(cfg.trained) == {"emotion": "trained", "va": "prior",
                                                          "stress": "trained"}
    assert head_flags({}) == {"emotion": "untrained", "va": "prior", "stress": "prior"}
    assert prior_note(head_flags(cfg)) == f"V/A is {PRIOR_NOTE}."
    assert prior_note({"va": "prior", "stress": "prior"}) == f"V/A and stress are {PRIOR_NOTE}."
    assert prior_note({"va": "trained", "stress": "trained"}) == prior_note(None) == ""
