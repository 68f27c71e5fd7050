"""Data-parallel training with PyTorch's own DistributedDataParallel, launched by torchrun.

Each optimizer step still consumes one global batch of train.batch_size images: rank r takes
every world-th image of it, so N processes compute the same gradient as one process would
(up to float summation order). Rank 0 alone writes checkpoints, logs and metrics.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank among `world` processes."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """Whether this process writes outputs (rank 0)."""
        return self.rank == 0


SINGLE = DistContext()


def under_torchrun() -> bool:
    """Whether torchrun (or another launcher setting its variables) started this process."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def relaunch_with_torchrun(processes: int) -> None:
    """Replace this process by `torchrun --standalone --nproc_per_node=N <same module or script, same args>`."""
    # Share the cores instead of each process taking them all (torchrun would pick 1 and warn).
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // processes)))
    # A stage started as `python -m stages.train` restarts as a module too, so each worker imports the
    # fer_pipeline of the current workspace (run as a script, stages/ would come first on sys.path instead).
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    target = ["--module", spec.name] if spec is not None else [sys.argv[0]]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *target,
           *sys.argv[1:]]
    os.execv(sys.executable, cmd)


def init_from_env(device: torch.device) -> DistContext:
    """Join the process group torchrun prepared (gloo on CPU, nccl on CUDA); SINGLE when not under torchrun."""
    if not under_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return SINGLE
    if device.type == "cuda":  # one GPU per process: rank r on cuda:LOCAL_RANK ("cuda" then means that one)
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank=dist.get_rank(), world=dist.get_world_size())


def shard(idx: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This rank's share of a global batch: every world-th index, starting at its rank."""
    return idx[ctx.rank :: ctx.world]


def _comm_device() -> torch.device:
    """Where collective tensors must live: the process's GPU under nccl, else the CPU (gloo)."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def gather(t: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Concatenate a 1-D tensor of varying length from every rank (rank order), on every rank; on the CPU."""
    if ctx.world == 1:
        return t.cpu()
    dev = _comm_device()
    sizes = [torch.zeros(1, dtype=torch.long, device=dev) for _ in range(ctx.world)]
    dist.all_gather(sizes, torch.tensor([len(t)], device=dev))
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros(longest, dtype=t.dtype, device=dev)
    padded[: len(t)] = t
    parts = [torch.zeros(longest, dtype=t.dtype, device=dev) for _ in range(ctx.world)]
    dist.all_gather(parts, padded)
    return torch.cat([p[: int(s.item())] for p, s in zip(parts, sizes, strict=True)]).cpu()


def all_sum(value: float, ctx: DistContext) -> float:
    """Sum a number over ranks."""
    if ctx.world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t)
    return float(t.item())


def close(ctx: DistContext) -> None:
    """Leave the process group."""
    if ctx.world > 1 and dist.is_initialized():
        dist.destroy_process_group()
