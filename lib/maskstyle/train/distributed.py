"""Multi-GPU training with ``torchrun`` and ``DistributedDataParallel`` (DDP).

Data parallelism: each of ``W`` processes (ranks) holds a full copy of the model, sees a
``1/W`` share of every global batch and computes gradients on it; DDP all-reduces the
gradients so every rank applies the same averaged update

    g = 1/W * sum_r g_r,   g_r = gradient of the mean loss over rank r's share,

which, with equal shares, is the gradient of the mean loss over the global batch: ``W``
ranks with batch ``b`` train like one process with batch ``W * b``.

``torchrun --nproc_per_node=W script.py`` starts the ranks and sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; :func:`init_distributed`
reads them (and does nothing in a plain single-process run), so one script serves both.
Only the main process (rank 0) writes checkpoints, histories and figures
(:func:`is_main_process`); :func:`barrier` makes the others wait for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits: its rank, local rank, the world size, backend and device."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    backend: str | None = None
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def is_distributed() -> bool:
    """True once a process group is initialised (under ``torchrun`` after init)."""
    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """True on rank 0, and in a single-process run."""
    return get_rank() == 0


def init_distributed(
    backend: str | None = None, timeout: timedelta = timedelta(minutes=10)
) -> DistributedContext:
    """Initialise the process group from torchrun's environment; a no-op without it.

    ``backend`` defaults to ``nccl`` when CUDA is available, else ``gloo``. With CUDA each
    rank uses ``cuda:LOCAL_RANK``. Calling it again returns the current context.
    """
    if "RANK" not in os.environ:
        device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
        return DistributedContext(device=device)
    missing = [name for name in _ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            f"RANK is set but {missing} are not; start the script with "
            "`torchrun --nproc_per_node=N ...`, which sets all of "
            f"{list(_ENV)}, or unset RANK for a single-process run"
        )
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise RuntimeError("backend 'nccl' needs CUDA; use backend='gloo' on CPU")
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if not is_distributed():
        dist.init_process_group(
            backend=backend, init_method="env://", rank=rank, world_size=world_size,
            timeout=timeout,
        )
    return DistributedContext(rank, local_rank, world_size, dist.get_backend(), device)


def wrap_ddp(model: nn.Module, **ddp_kwargs) -> nn.Module:
    """Wrap ``model`` in ``DistributedDataParallel`` when distributed; else return it as is.

    The model is moved to this rank's device (``cuda:LOCAL_RANK`` under nccl, else CPU).
    DDP broadcasts rank 0's parameters and buffers, so every rank starts identical.
    """
    if not is_distributed():
        return model
    if isinstance(model, nn.parallel.DistributedDataParallel):
        return model
    if dist.get_backend() == "nccl":
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
        model = model.to(torch.device("cuda", local_rank))
        ddp_kwargs.setdefault("device_ids", [local_rank])
    return nn.parallel.DistributedDataParallel(model, **ddp_kwargs)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The plain module inside DDP / DataParallel / ``torch.compile`` wrappers."""
    while True:
        if isinstance(model, nn.parallel.DistributedDataParallel | nn.DataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod") and isinstance(model._orig_mod, nn.Module):
            model = model._orig_mod
        else:
            return model


def barrier() -> None:
    """Wait for every rank (no-op in a single process)."""
    if is_distributed():
        dist.barrier()


def all_gather_objects(obj: object) -> list[object]:
    """Every rank's ``obj``, in rank order, on every rank (``[obj]`` in a single process)."""
    if not is_distributed():
        return [obj]
    gathered: list[object] = [None] * get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def mean_across_ranks(values: torch.Tensor) -> torch.Tensor:
    """Element-wise mean of ``values`` over ranks (a copy of it in a single process)."""
    values = values.detach().clone()
    if is_distributed():
        if dist.get_backend() == "nccl":
            values = values.cuda()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values = values.cpu() / get_world_size()
    return values


def cleanup() -> None:
    """Destroy the process group (no-op if none)."""
    if is_distributed():
        dist.destroy_process_group()
