"""Trainer: checkpoints + history + guard, exact resume after a crash, rank-0-only writes."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from maskstyle.train import trainer as trainer_module
from maskstyle.train.checkpoint import latest_checkpoint, list_checkpoints
from maskstyle.train.guard import NonFiniteLossError
from maskstyle.train.sampler import ResumableLoader, ResumableSampler
from maskstyle.train.trainer import Trainer
from maskstyle.utils.seed import seed_everything


class Crash(RuntimeError):
    pass


def build(out_dir, total_steps, seed=0, crash_at=None, nan_at=None, **kwargs):
    """A tiny dropout MLP on a shuffled 10-sample dataset, batch 3, SGD with momentum + decay."""
    seed_everything(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.25), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    data_rng = torch.Generator().manual_seed(11)
    dataset = TensorDataset(
        torch.randn(10, 4, generator=data_rng), torch.randn(10, 1, generator=data_rng)
    )
    loader = DataLoader(dataset, batch_size=3, sampler=ResumableSampler(dataset, seed=5))

    def step_fn(batch, step):
        if step == crash_at:
            raise Crash(f"simulated crash at step {step}")
        inputs, targets = batch
        noise = 0.01 * torch.randn_like(targets)  # draws from the global RNG too
        loss = nn.functional.mse_loss(model(inputs), targets + noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        reg = loss.detach() * (float("nan") if step == nan_at else 0.5)
        return {"mse": loss, "half": reg}

    trainer = Trainer(
        models={"mlp": model},
        optimizers={"sgd": optimizer},
        step_fn=step_fn,
        data=ResumableLoader(loader),
        total_steps=total_steps,
        out_dir=out_dir,
        schedulers={"lr": scheduler},
        checkpoint_every=3,
        log_every=1,
        keep_last=2,
        progress=False,
        **kwargs,
    )
    return trainer, model


def test_resume_after_a_crash_reproduces_the_uninterrupted_run(tmp_path):
    reference, reference_model = build(tmp_path / "a", total_steps=10)
    reference.run()

    crashed, _ = build(tmp_path / "b", total_steps=10, crash_at=7)
    with pytest.raises(Crash):
        crashed.run()
    assert latest_checkpoint(tmp_path / "b" / "checkpoints").name == "checkpoint-000000006.pt"
    assert len(pd.read_csv(tmp_path / "b" / "history.csv")) == 7  # logged steps 1..7

    resumed, resumed_model = build(tmp_path / "b", total_steps=10, seed=99)
    resumed.run()

    a = pd.read_csv(tmp_path / "a" / "history.csv")
    b = pd.read_csv(tmp_path / "b" / "history.csv")
    assert b["step"].tolist() == list(range(1, 11))
    assert a["mse"].tolist() == b["mse"].tolist()  # exact, not approximately
    for p, q in zip(reference_model.parameters(), resumed_model.parameters()):
        assert torch.equal(p, q)
    assert [s for s, _ in list_checkpoints(tmp_path / "b" / "checkpoints")] == [9, 10]


def test_a_finished_run_is_not_repeated(tmp_path):
    first, model = build(tmp_path, total_steps=3)
    first.run()
    again, model_again = build(tmp_path, total_steps=3, seed=1)
    again.run()
    assert again.step == 3
    assert len(pd.read_csv(tmp_path / "history.csv")) == 3
    for p, q in zip(model.parameters(), model_again.parameters()):
        assert torch.equal(p, q)


def test_nan_stops_the_run_naming_step_and_term(tmp_path):
    trainer, _ = build(tmp_path, total_steps=10, nan_at=4)  # step_fn's 0-based index 4
    with pytest.raises(NonFiniteLossError, match=r"step 5: 'half'=nan") as caught:
        trainer.run()
    assert caught.value.step == 5 and list(caught.value.terms) == ["half"]
    assert pd.read_csv(tmp_path / "history.csv")["step"].tolist() == [1, 2, 3, 4]
    assert latest_checkpoint(tmp_path / "checkpoints").name == "checkpoint-000000003.pt"


def test_only_the_main_process_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module, "is_main_process", lambda: False)
    trainer, _ = build(tmp_path / "rank1", total_steps=4)
    trainer.run()
    assert trainer.step == 4 and len(trainer.history) == 4  # kept in memory only
    assert not (tmp_path / "rank1").exists()


def test_existing_checkpoints_without_resume_is_an_error(tmp_path):
    build(tmp_path, total_steps=3)[0].run()
    with pytest.raises(FileExistsError, match="resume=True"):
        build(tmp_path, total_steps=6, resume=False)[0].run()


def test_bad_configuration_and_finite_data(tmp_path):
    with pytest.raises(ValueError, match="total_steps must be a positive int"):
        build(tmp_path, total_steps=0)
    model = nn.Linear(1, 1)
    trainer = Trainer(
        models={"m": model},
        optimizers={},
        step_fn=lambda b, s: {"x": 1.0},
        data=[0, 1],
        total_steps=5,
        out_dir=tmp_path / "finite",
        progress=False,
    )
    with pytest.raises(RuntimeError, match="ran out after 2 steps"):
        trainer.run()


def test_plain_dataloader_is_refused_with_the_fix(tmp_path):
    loader = DataLoader(TensorDataset(torch.zeros(4, 1)), batch_size=2, shuffle=True)
    with pytest.raises(TypeError, match=r"ResumableLoader\(DataLoader"):
        Trainer(
            models={"m": nn.Linear(1, 1)},
            optimizers={},
            step_fn=lambda b, s: {},
            data=loader,
            total_steps=2,
            out_dir=tmp_path,
        )
