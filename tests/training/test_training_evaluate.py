"""training.evaluate: validation reports what the model reports (multi_label sigmoids, the prior)."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from core.model.config import ModelConfig
from core.model.net import build_model
from core.model.prior import prior_va_stress
from core.taxonomy import AFFECTNET8
from training.evaluate import collect


def _loader(n: int = 10) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    rows = [{"x": torch.randn(1, 64, 64, generator=g), "emotion": torch.tensor(i % 8),
             "va": torch.tensor([0.1, -0.2]), "stress": torch.tensor([0.5])} for i in range(n)]
    return DataLoader(rows, batch_size=4)


def test_collect_matches_predict_with_multi_label_and_prior():
    torch.manual_seed(0)
    model = build_model(ModelConfig(multi_label=True, trained={"emotion": True, "va": False,
                                                               "stress": True}))
    c = collect(model, _loader(), torch.device("cpu"))
    x = torch.cat([b["x"] for b in _loader()])
    ref = model.predict(x)
    np.testing.assert_allclose(c["probs"], ref["emotion"].numpy(), atol=1e-6)
    assert not np.allclose(c["probs"].sum(1), 1.0)  # sigmoids, not a softmax
    np.testing.assert_allclose(c["va"], prior_va_stress(c["probs"], AFFECTNET8)[0], atol=1e-6)
    np.testing.assert_allclose(c["stress"], ref["stress"][:, 0].numpy(), atol=1e-6)  # trained head
