"""Resumable data order: a function of (seed, epoch), split over ranks, resumable mid-epoch."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, TensorDataset

from maskstyle.train.sampler import ResumableLoader, ResumableSampler


class IndexDataset(Dataset):
    def __init__(self, size: int):
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> int:
        return index


def take(loader: ResumableLoader, count: int) -> list[list[int]]:
    return [next(loader).tolist() for _ in range(count)]


def make_loader(size=10, batch_size=3, seed=4, **sampler_kwargs) -> ResumableLoader:
    sampler = ResumableSampler(size, seed=seed, **sampler_kwargs)
    return ResumableLoader(DataLoader(IndexDataset(size), batch_size=batch_size, sampler=sampler))


@pytest.mark.parametrize(
    "size, replicas, drop_last", [(10, 1, False), (10, 3, False), (10, 3, True)]
)
def test_order_matches_torch_distributed_sampler(size, replicas, drop_last):
    for rank in range(replicas):
        ours = ResumableSampler(size, seed=7, num_replicas=replicas, rank=rank, drop_last=drop_last)
        reference = DistributedSampler(
            IndexDataset(size),
            num_replicas=replicas,
            rank=rank,
            shuffle=True,
            seed=7,
            drop_last=drop_last,
        )
        for epoch in (0, 3):
            ours.set_epoch(epoch)
            reference.set_epoch(epoch)
            assert list(ours) == list(reference)
            assert len(ours) == len(reference)


def test_epochs_differ_and_each_is_a_permutation():
    sampler = ResumableSampler(12, seed=1)
    first, second = sampler.epoch_indices(0), sampler.epoch_indices(1)
    assert sorted(first) == sorted(second) == list(range(12))
    assert first != second
    assert ResumableSampler(12, shuffle=False).epoch_indices(5) == list(range(12))


def test_ranks_together_hold_the_single_process_global_batch():
    size, world, per_rank_batch = 16, 2, 3
    single = ResumableSampler(size, seed=3, num_replicas=1, rank=0).epoch_indices(2)
    shares = [
        ResumableSampler(size, seed=3, num_replicas=world, rank=r).epoch_indices(2)
        for r in range(world)
    ]
    global_batch = world * per_rank_batch
    for k in range(size // global_batch):
        together = sorted(
            i for share in shares for i in share[k * per_rank_batch : (k + 1) * per_rank_batch]
        )
        assert together == sorted(single[k * global_batch : (k + 1) * global_batch])


def test_resume_mid_epoch_continues_the_exact_order():
    uninterrupted = take(make_loader(), 9)  # 4 batches per epoch: crosses two epoch ends
    first = make_loader()
    head = take(first, 5)
    state = first.state_dict()
    assert state == {"epoch": 1, "batch": 1}
    resumed = make_loader(seed=4)
    resumed.load_state_dict(state)
    assert head + take(resumed, 4) == uninterrupted
    assert uninterrupted[0] != uninterrupted[4]  # epochs are reshuffled


def test_making_iterators_does_not_touch_the_global_rng():
    torch.manual_seed(0)
    expected = torch.rand(3)
    loader = make_loader()
    torch.manual_seed(0)
    take(loader, 6)  # starts two epochs, i.e. two DataLoader iterators
    assert torch.equal(torch.rand(3), expected)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="0 <= rank < num_replicas"):
        ResumableSampler(10, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="empty"):
        ResumableSampler(0)
    with pytest.raises(ValueError, match="start must be in"):
        ResumableSampler(10).set_start(11)
    with pytest.raises(TypeError, match="sampler=ResumableSampler"):
        ResumableLoader(DataLoader(TensorDataset(torch.zeros(4)), batch_size=2, shuffle=True))
