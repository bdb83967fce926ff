"""Resumable, deterministic data order for shuffled epochs, single- or multi-process.

A shuffled ``DataLoader`` draws its order from an RNG when each epoch's iterator is made,
so resuming mid-epoch cannot continue the same order. Here the order is a pure function of
``(seed, epoch)``:

    perm_e = randperm(N, generator seeded with seed + epoch)

(the rule of torch's ``DistributedSampler``). Rank ``r`` of ``W`` takes
``perm_e[r :: W]`` (after padding ``perm_e`` to a multiple of ``W`` by repeating its start,
or dropping its tail with ``drop_last``), so the ``W`` ranks' batches ``k`` together hold
exactly the global batch ``k`` of a single process whose batch is ``W`` times larger.

:class:`ResumableSampler` yields that order from a start offset; :class:`ResumableLoader`
runs a ``DataLoader`` built on it forever, epoch after epoch, counts the batches handed to
the training loop (not the ones prefetched by workers) and saves/restores that position
with ``state_dict()``/``load_state_dict()`` (pass it to ``save_checkpoint(stateful=...)``).

Randomness inside ``Dataset.__getitem__``: with ``num_workers=0`` it draws from the global
RNGs, which checkpoints restore, so it resumes exactly. In worker processes it resumes
exactly only if it is seeded from the sample index and epoch (workers are re-seeded from
``(seed, epoch)`` at each epoch start, but which worker loads which batch shifts on resume).
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import torch
from torch.utils.data import DataLoader, Sampler

from maskstyle.train.distributed import get_rank, get_world_size


class ResumableSampler(Sampler[int]):
    """Per-epoch order from ``(seed, epoch)``, one rank's share, starting at an offset.

    ``num_replicas``/``rank`` default to the current process group (1/0 without one).
    ``set_epoch(e)`` selects the epoch and resets the offset; ``set_start(k)`` skips the
    first ``k`` of this rank's indices of the current epoch (for a mid-epoch resume).
    """

    def __init__(
        self,
        data_source: Sized | int,
        *,
        seed: int = 0,
        shuffle: bool = True,
        num_replicas: int | None = None,
        rank: int | None = None,
        drop_last: bool = False,
    ):
        size = data_source if isinstance(data_source, int) else len(data_source)
        if size < 1:
            raise ValueError("the dataset is empty; a sampler needs at least one sample")
        num_replicas = get_world_size() if num_replicas is None else num_replicas
        rank = get_rank() if rank is None else rank
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(
                f"need num_replicas >= 1 and 0 <= rank < num_replicas, got "
                f"num_replicas={num_replicas}, rank={rank}"
            )
        if drop_last and size < num_replicas:
            raise ValueError(
                f"drop_last with {size} samples leaves nothing for {num_replicas} ranks"
            )
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.num_replicas, self.rank, self.drop_last = num_replicas, rank, drop_last
        self.per_rank = size // num_replicas if drop_last else -(-size // num_replicas)
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int) -> None:
        """Select ``epoch``'s order and start it from its beginning."""
        self.epoch, self.start = int(epoch), 0

    def set_start(self, start: int) -> None:
        """Skip the first ``start`` of this rank's indices in the current epoch."""
        if not 0 <= start <= self.per_rank:
            raise ValueError(f"start must be in [0, {self.per_rank}], got {start}")
        self.start = int(start)

    def epoch_indices(self, epoch: int) -> list[int]:
        """This rank's full index list for ``epoch`` (ignores the start offset)."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + epoch)
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.arange(self.size)
        total = self.per_rank * self.num_replicas
        if total > self.size:
            order = torch.cat([order, order.repeat(-(-total // self.size))])[:total]
        return order[:total][self.rank :: self.num_replicas].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices(self.epoch)[self.start :])

    def __len__(self) -> int:
        return self.per_rank - self.start


class ResumableLoader:
    """Endless batches from a ``DataLoader`` whose sampler is a :class:`ResumableSampler`.

    ``state_dict()`` is ``{"epoch", "batch"}``: the epoch and how many of its batches the
    loop has taken. ``load_state_dict`` positions the sampler so the next batch is the one
    an uninterrupted run would get. Before each epoch's iterator is made the loader gets a
    fresh ``torch.Generator`` seeded from ``(seed, epoch)``, so making iterators never
    touches the global RNG and worker seeds depend only on ``(seed, epoch)``.
    """

    def __init__(self, loader: DataLoader):
        if not isinstance(loader, DataLoader) or not isinstance(loader.sampler, ResumableSampler):
            raise TypeError(
                "ResumableLoader needs a DataLoader built with sampler=ResumableSampler(...) "
                "(and no shuffle=True; the sampler shuffles)"
            )
        if loader.batch_size is None:
            raise ValueError("ResumableLoader needs a DataLoader with a batch_size")
        self.loader = loader
        self.sampler: ResumableSampler = loader.sampler
        self.epoch = 0
        self.batch = 0
        self._iterator: Iterator | None = None

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        self._iterator = None

    def _start_iterator(self) -> Iterator:
        self.sampler.set_epoch(self.epoch)
        self.sampler.set_start(min(self.batch * self.loader.batch_size, self.sampler.per_rank))
        seed = (self.sampler.seed * 1_000_003 + self.epoch) % 2**63
        self.loader.generator = torch.Generator().manual_seed(seed)
        return iter(self.loader)

    def __iter__(self) -> ResumableLoader:
        return self

    def __next__(self):
        for _ in range(2):
            if self._iterator is None:
                self._iterator = self._start_iterator()
            try:
                batch = next(self._iterator)
            except StopIteration:
                self.epoch, self.batch, self._iterator = self.epoch + 1, 0, None
                continue
            self.batch += 1
            return batch
        raise RuntimeError("the DataLoader yields no batch in a fresh epoch (drop_last too big?)")
