"""Work split under torchrun: every job taken by exactly one rank, shares balanced by cost and the
same on every rank; torchrun's variables read and checked."""
from __future__ import annotations

import pytest

from core.clips.shard import Shard, assign, shard_from_env


def test_assign_takes_every_job_once_balanced_by_cost():
    costs = [5, 1, 1, 1, 1, 1, 4, 2, 3, 1]
    shares = assign(costs, 3)
    assert sorted(i for share in shares for i in share) == list(range(len(costs)))
    assert all(share == sorted(share) for share in shares)
    loads = [sum(costs[i] for i in share) for share in shares]
    assert max(loads) - min(loads) <= 1 and sum(loads) == sum(costs)
    assert assign(costs, 3) == shares  # every rank computes the same split
    assert assign(costs, 1) == [list(range(len(costs)))]


def test_assign_with_more_ranks_than_jobs_leaves_some_idle():
    assert assign([3.0, 1.0], 4) == [[0], [1], [], []]
    assert assign([], 2) == [[], []]
    with pytest.raises(ValueError, match="at least 1"):
        assign([1.0], 0)


def test_more_processes_than_gpus_share_them_in_turn(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert [Shard(r, 6, r % 3).device() for r in range(6)] == ["cuda:0", "cuda:1", "cuda:0"] * 2
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert Shard(1, 2, 1).device() == "cpu"


def test_shard_from_torchrun_variables():
    assert shard_from_env({}) == Shard(0, 1, 0) and not Shard().distributed
    shard = shard_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"})
    assert shard == Shard(3, 4, 1) and shard.distributed and not shard.is_main
    assert shard.label() == "rank 3 of 4" and shard.device() in ("cpu", "cuda:1")
    with pytest.raises(ValueError, match="not in a world of 2"):
        shard_from_env({"RANK": "2", "WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="must be integers"):
        shard_from_env({"RANK": "x"})
