"""Wall-clock timing of one call, reported with the conditions that produced it.

The papers compare methods by seconds per image (Gatys 112 s vs 1.35 s for fast semantic
transfer, ...). Such numbers mean little without the hardware, thread count and library
version, so :func:`time_call` returns them with the times: ``warmup`` untimed calls (lazy
initialisation, allocator warm-up), then ``repeats`` timed calls; the median is the number
to report. On CUDA the device is synchronised before and after each timed call, because
kernels run asynchronously and the Python call returns before they finish.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class TimingResult:
    """Seconds per call (``times``) and the conditions they were measured under."""

    times: tuple[float, ...]
    warmup: int
    device: str
    threads: int
    torch_version: str

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def repeats(self) -> int:
        return len(self.times)

    def as_dict(self) -> dict[str, Any]:
        """Flat record for a results table (times in seconds)."""
        out = asdict(self)
        out.update(median=self.median, mean=self.mean, min=self.min, repeats=self.repeats)
        return out

    def __str__(self) -> str:
        return (
            f"median {self.median * 1e3:.3g} ms (mean {self.mean * 1e3:.3g} ms over "
            f"{self.repeats} runs after {self.warmup} warm-up; {self.device}, "
            f"{self.threads} threads, torch {self.torch_version})"
        )


def _infer_device(fn: Callable, args: tuple, kwargs: dict) -> torch.device:
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            return value.device
    if isinstance(fn, torch.nn.Module):
        for tensor in (*fn.parameters(), *fn.buffers()):
            return tensor.device
    return torch.device("cpu")


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def time_call(
    fn: Callable,
    *args: Any,
    warmup: int = 2,
    repeats: int = 5,
    device: str | torch.device | None = None,
    clock: Callable[[], float] = time.perf_counter,
    **kwargs: Any,
) -> TimingResult:
    """Time ``fn(*args, **kwargs)``: ``warmup`` untimed calls, then ``repeats`` timed ones.

    ``device`` (for synchronisation) defaults to that of the first tensor argument, or of
    ``fn``'s parameters if ``fn`` is a module, else CPU. ``clock`` is injectable for tests.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if warmup < 0 or repeats < 1:
        raise ValueError(f"need warmup >= 0 and repeats >= 1, got {warmup} and {repeats}")
    device = torch.device(device) if device is not None else _infer_device(fn, args, kwargs)
    for _ in range(warmup):
        fn(*args, **kwargs)
    times = []
    for _ in range(repeats):
        _synchronize(device)
        start = clock()
        fn(*args, **kwargs)
        _synchronize(device)
        times.append(clock() - start)
    return TimingResult(
        times=tuple(times),
        warmup=warmup,
        device=str(device),
        threads=torch.get_num_threads(),
        torch_version=torch.__version__,
    )
