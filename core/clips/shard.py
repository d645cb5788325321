"""Work split across the processes torchrun starts (RANK / WORLD_SIZE / LOCAL_RANK): which share of
a job list each rank takes (disjoint, deterministic, balanced by cost), the device it uses, and the
few torch.distributed collectives (gloo, CPU objects only) that agree on the list and sum the counts.
One process (no torchrun) is a world of 1: no process group, no extra service."""
from __future__ import annotations

import heapq
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# a rank that finished its share waits this long at the final gather for the slowest one
GROUP_TIMEOUT = timedelta(hours=24)


@dataclass(frozen=True)
class Shard:
    """This process's place in the world torchrun describes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self) -> str:
        """cuda:<local rank> when CUDA is there (one GPU per process on a node; more processes
        than GPUs share them in turn), else cpu."""
        import torch

        if not torch.cuda.is_available():
            return "cpu"
        return f"cuda:{self.local_rank % torch.cuda.device_count()}"

    def label(self) -> str:
        return f"rank {self.rank} of {self.world_size}" if self.distributed else ""


def shard_from_env(environ: dict[str, str] | None = None) -> Shard:
    """The Shard of this process from torchrun's variables (absent: a world of 1)."""
    env = os.environ if environ is None else environ
    try:
        shard = Shard(int(env.get("RANK", "0")), int(env.get("WORLD_SIZE", "1")), int(env.get("LOCAL_RANK", "0")))
    except ValueError as exc:
        raise ValueError(f"RANK / WORLD_SIZE / LOCAL_RANK must be integers: {exc}") from None
    if shard.world_size < 1 or not 0 <= shard.rank < shard.world_size:
        raise ValueError(f"RANK {shard.rank} is not in a world of {shard.world_size} (WORLD_SIZE)")
    return shard


def assign(costs: Sequence[float], world_size: int) -> list[list[int]]:
    """Indices of the jobs each rank takes: every index exactly once, the summed costs balanced
    (largest first, each to the least loaded rank; ties by index and rank, so every rank that
    computes this from the same list gets the same answer). Each share is in index order."""
    if world_size < 1:
        raise ValueError(f"world size {world_size}: must be at least 1")
    shares: list[list[int]] = [[] for _ in range(world_size)]
    loads = [(0.0, rank) for rank in range(world_size)]  # a heap of (load, rank)
    for i in sorted(range(len(costs)), key=lambda i: (-float(costs[i]), i)):
        load, rank = heapq.heappop(loads)
        shares[rank].append(i)
        heapq.heappush(loads, (load + float(costs[i]), rank))
    return [sorted(share) for share in shares]


@contextmanager
def process_group(shard: Shard) -> Iterator[None]:
    """Join torchrun's rendezvous (env://) for the coordination collectives when the world has more
    than one process and no group exists yet; leave it afterwards. Gloo: only small CPU objects
    travel (the job list, the counts); the work itself stays on each rank's own device."""
    if not shard.distributed:
        yield
        return
    import torch.distributed as dist

    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("gloo", init_method="env://", timeout=GROUP_TIMEOUT)
    try:
        yield
    finally:
        if owns and dist.is_initialized():
            dist.destroy_process_group()


def _object_device() -> Any:
    import torch
    import torch.distributed as dist

    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None


def broadcast_object(shard: Shard, obj: Any = None) -> Any:
    """Rank 0's obj on every rank (inside process_group; a world of 1 returns obj)."""
    if not shard.distributed:
        return obj
    import torch.distributed as dist

    box = [obj if shard.is_main else None]
    dist.broadcast_object_list(box, src=0, device=_object_device())
    return box[0]


def gather_objects(shard: Shard, obj: Any) -> list[Any]:
    """Every rank's obj, in rank order, on every rank (a collective: all ranks call it)."""
    if not shard.distributed:
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * shard.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(shard: Shard) -> None:
    if shard.distributed:
        import torch.distributed as dist

        dist.barrier()
