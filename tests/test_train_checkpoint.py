"""Checkpoints: atomic writes, rotation, newest-by-step, exact resume, DDP-free unwrap."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import torch
from torch import nn

from maskstyle.train.checkpoint import (
    branch_checkpoint,
    checkpoint_path,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from maskstyle.utils.seed import seed_everything


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 1))


def train_steps(model, optimizer, scheduler, steps: int) -> list[float]:
    """Random data from all three global RNGs (torch, NumPy, Python) plus dropout."""
    losses = []
    for _ in range(steps):
        x = torch.randn(4, 6)
        # the legacy global NumPy RNG on purpose: checkpoints must restore it
        noise = np.random.standard_normal((4, 1)).astype(np.float32)  # noqa: NPY002
        noise = torch.from_numpy(noise)
        scale = random.random()
        loss = ((model(x) - scale * noise) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def fresh_run(seed: int):
    seed_everything(seed)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    return model, optimizer, scheduler


def test_resume_gives_bit_identical_losses(tmp_path):
    steps = 10
    model, optimizer, scheduler = fresh_run(seed=0)
    uninterrupted = train_steps(model, optimizer, scheduler, steps)
    final_uninterrupted = [p.detach().clone() for p in model.parameters()]

    model, optimizer, scheduler = fresh_run(seed=0)
    first_half = train_steps(model, optimizer, scheduler, steps // 2)
    path = save_checkpoint(
        checkpoint_path(tmp_path, steps // 2),
        models={"net": model},
        optimizers={"adam": optimizer},
        schedulers={"lr": scheduler},
        step=steps // 2,
        extra={"note": "half"},
    )
    # A "new process": different seed, different initial weights, fresh optimiser state.
    model, optimizer, scheduler = fresh_run(seed=123)
    step, extra = load_checkpoint(
        path, {"net": model}, {"adam": optimizer}, schedulers={"lr": scheduler}
    )
    assert (step, extra) == (steps // 2, {"note": "half"})
    second_half = train_steps(model, optimizer, scheduler, steps - steps // 2)

    assert first_half + second_half == uninterrupted
    for resumed, reference in zip(model.parameters(), final_uninterrupted):
        assert torch.equal(resumed, reference)


def test_without_restoring_the_rng_the_losses_differ(tmp_path):
    """The exact-resume test above can fail: skipping the RNG restore breaks equality."""
    model, optimizer, scheduler = fresh_run(seed=0)
    train_steps(model, optimizer, scheduler, 2)
    states = {
        "models": {"net": model},
        "optimizers": {"adam": optimizer},
        "schedulers": {"lr": scheduler},
    }
    path = save_checkpoint(tmp_path / "c.pt", **states, step=2)
    expected = train_steps(model, optimizer, scheduler, 2)

    model, optimizer, scheduler = fresh_run(seed=7)
    load_checkpoint(
        path, {"net": model}, {"adam": optimizer}, schedulers={"lr": scheduler}, restore_rng=False
    )
    assert train_steps(model, optimizer, scheduler, 2) != expected
    load_checkpoint(path, {"net": model}, {"adam": optimizer}, schedulers={"lr": scheduler})
    assert train_steps(model, optimizer, scheduler, 2) == expected


def test_generators_and_stateful_objects_are_restored(tmp_path):
    class Position:
        def __init__(self):
            self.value = 0

        def state_dict(self):
            return {"value": self.value}

        def load_state_dict(self, state):
            self.value = state["value"]

    generator = torch.Generator().manual_seed(5)
    torch.rand(3, generator=generator)
    position = Position()
    position.value = 17
    model = make_model()
    path = save_checkpoint(
        tmp_path / "c.pt",
        models={"m": model},
        optimizers={},
        generators={"loader": generator},
        stateful={"data": position},
        step=1,
    )
    expected = torch.rand(4, generator=generator)

    other, restored_position = torch.Generator().manual_seed(99), Position()
    load_checkpoint(
        path, {"m": model}, generators={"loader": other}, stateful={"data": restored_position}
    )
    assert torch.equal(torch.rand(4, generator=other), expected)
    assert restored_position.value == 17


def test_failed_save_keeps_previous_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch):
    model = make_model()
    path = tmp_path / "checkpoint-000000001.pt"
    save_checkpoint(path, models={"m": model}, optimizers={}, step=1)
    before = path.read_bytes()

    real_save, partial_files = torch.save, []

    def broken_save(obj, f, *args, **kwargs):
        if isinstance(f, io.BytesIO):  # an in-memory save, not the checkpoint file
            return real_save(obj, f, *args, **kwargs)
        f.write(b"half a checkpoint")
        f.flush()
        partial_files.extend(p for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
        assert partial_files and partial_files[-1].stat().st_size > 0
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(torch, "save", broken_save)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, models={"m": model}, optimizers={}, step=2)
    monkeypatch.undo()

    assert partial_files and partial_files[0].parent == tmp_path  # temp file beside it
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    restored = make_model()
    assert load_checkpoint(path, {"m": restored}).step == 1


def test_latest_checkpoint_is_highest_step_not_newest_file(tmp_path):
    assert latest_checkpoint(tmp_path) is None
    assert latest_checkpoint(tmp_path / "missing") is None
    model = make_model()
    for step in (20, 100, 3):  # written out of order
        save_checkpoint(
            checkpoint_path(tmp_path, step), models={"m": model}, optimizers={}, step=step
        )
    (tmp_path / "notes.pt").write_bytes(b"")
    (tmp_path / ".checkpoint-000000200.pt.abc.tmp").write_bytes(b"")
    assert latest_checkpoint(tmp_path) == checkpoint_path(tmp_path, 100)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [3, 20, 100]


def test_keep_last_rotation(tmp_path):
    model = make_model()
    for step in range(1, 6):
        save_checkpoint(
            checkpoint_path(tmp_path, step),
            models={"m": model},
            optimizers={},
            step=step,
            keep_last=2,
        )
    assert [s for s, _ in list_checkpoints(tmp_path)] == [4, 5]
    assert prune_checkpoints(tmp_path, 1) == [checkpoint_path(tmp_path, 4)]
    with pytest.raises(ValueError, match="keep_last"):
        prune_checkpoints(tmp_path, 0)


def test_wrapped_model_is_saved_as_its_plain_module(tmp_path):
    inner = make_model()
    wrapped = nn.DataParallel(inner)  # same `.module` layout as DistributedDataParallel
    path = save_checkpoint(tmp_path / "c.pt", models={"m": wrapped}, optimizers={}, step=0)
    payload = torch.load(path, weights_only=True)
    assert set(payload["models"]["m"]) == set(inner.state_dict())
    plain = make_model()
    load_checkpoint(path, {"m": plain})
    assert torch.equal(plain[0].weight, inner[0].weight)
    assert payload["rank"] == 0 and payload["world_size"] == 1


def test_error_paths(tmp_path):
    model = make_model()
    with pytest.raises(FileNotFoundError, match="latest_checkpoint"):
        load_checkpoint(tmp_path / "nope.pt", {"m": model})
    with pytest.raises(FileNotFoundError, match="mkdir"):
        save_checkpoint(tmp_path / "no_dir" / "c.pt", models={"m": model}, optimizers={}, step=0)
    with pytest.raises(ValueError, match="non-negative int"):
        save_checkpoint(tmp_path / "c.pt", models={"m": model}, optimizers={}, step=-1)
    with pytest.raises(TypeError, match="non-empty dict"):
        save_checkpoint(tmp_path / "c.pt", models={}, optimizers={}, step=0)
    with pytest.raises(TypeError, match="not an nn.Module"):
        save_checkpoint(tmp_path / "c.pt", models={"m": "model"}, optimizers={}, step=0)
    path = save_checkpoint(tmp_path / "c.pt", models={"G": model}, optimizers={}, step=0)
    with pytest.raises(KeyError, match=r"no 'D' among its models \(it holds \['G'\]\)"):
        load_checkpoint(path, {"D": model})
    with pytest.raises(TypeError, match="extra must hold only plain values"):
        save_checkpoint(
            tmp_path / "c.pt", models={"m": model}, optimizers={}, step=0, extra={"path": tmp_path}
        )
    torch.save({"state": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a maskstyle.checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt", {"m": model})


def test_each_rank_gets_its_own_rng_state_back(tmp_path, monkeypatch):
    from maskstyle.train import checkpoint as checkpoint_module
    from maskstyle.utils.seed import rng_state

    states, draws = [], []
    for rank in range(2):  # what two ranks would gather before rank 0 saves
        seed_everything(100 + rank)
        states.append(rng_state())
        draws.append((torch.rand(2), np.random.random(), random.random()))  # noqa: NPY002
    model = make_model()
    path = save_checkpoint(
        tmp_path / "c.pt", models={"m": model}, optimizers={}, step=1, rng_per_rank=states
    )
    monkeypatch.setattr(checkpoint_module, "get_world_size", lambda: 2)
    for rank in (1, 0):
        monkeypatch.setattr(checkpoint_module, "get_rank", lambda rank=rank: rank)
        seed_everything(5)
        load_checkpoint(path, {"m": model})
        drawn = (torch.rand(2), np.random.random(), random.random())  # noqa: NPY002
        assert torch.equal(drawn[0], draws[rank][0]) and drawn[1:] == draws[rank][1:]


def test_branch_checkpoint_keeps_the_state_and_records_the_new_settings(tmp_path):
    from maskstyle.train import read_settings

    model, optimizer, scheduler = fresh_run(seed=0)
    train_steps(model, optimizer, scheduler, 3)
    (tmp_path / "a").mkdir()
    source = save_checkpoint(checkpoint_path(tmp_path / "a", 3), models={"m": model},
                             optimizers={"o": optimizer}, step=3,
                             extra={"settings": {"w": 1.0}, "data": "toy"})  # fmt: skip
    path = branch_checkpoint(source, tmp_path / "b" / "checkpoints", settings={"w": 0.0},
                             note="a at step 3")  # fmt: skip
    assert path == checkpoint_path(tmp_path / "b" / "checkpoints", 3)
    assert read_settings(path) == {"w": 0.0} and read_settings(source) == {"w": 1.0}
    copy, copy_optimizer, _ = fresh_run(seed=1)
    resumed = load_checkpoint(path, {"m": copy}, {"o": copy_optimizer}, restore_rng=False)
    assert resumed.step == 3 and resumed.extra["branched_from"] == "a at step 3"
    assert resumed.extra["data"] == "toy"
    for name, value in model.state_dict().items():
        assert torch.equal(value, copy.state_dict()[name])
    with pytest.raises(FileNotFoundError, match="branch from"):
        branch_checkpoint(tmp_path / "none.pt", tmp_path / "c", settings={}, note="")


def test_every_reader_of_a_checkpoint_refuses_a_foreign_file_the_same_way(tmp_path):
    """load_checkpoint, branch_checkpoint and read_settings share read_payload's two checks:
    a missing file names what to do, a file save_checkpoint did not write is refused."""
    from maskstyle.train import read_settings
    from maskstyle.train.checkpoint import read_payload

    torch.save({"state": 1}, tmp_path / "foreign.pt")
    readers = {
        "load_checkpoint": lambda p: load_checkpoint(p, {"m": make_model()}),
        "branch_checkpoint": lambda p: branch_checkpoint(p, tmp_path / "b", settings={}, note=""),
        "read_settings": read_settings,
        "read_payload": lambda p: read_payload(p, missing="x"),
    }
    for read in readers.values():
        with pytest.raises(ValueError, match="foreign.pt is not a maskstyle.checkpoint/1"):
            read(tmp_path / "foreign.pt")
    assert not (tmp_path / "b").exists()  # nothing written for a refused source
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*none.pt; do this"):
        read_payload(tmp_path / "none.pt", missing="do this")
    model = make_model()
    path = save_checkpoint(tmp_path / "c.pt", models={"m": model}, optimizers={}, step=4,
                           extra={"settings": {"w": 2.0}})  # fmt: skip
    payload = read_payload(path, missing="x", mmap=True)
    assert payload["step"] == 4 and payload["extra"]["settings"] == {"w": 2.0}
    assert torch.equal(payload["models"]["m"]["0.weight"], model[0].weight)
