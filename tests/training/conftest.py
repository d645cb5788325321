"""Fixtures shared by the training tests."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny models train fastest on one thread (~20x faster than on two contended ones, and they
    do not fight other test processes); the previous setting is restored after the test."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
