"""torchrun + DDP with the gloo backend on 2 CPU processes, and the single-process no-ops."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from maskstyle.train import distributed
from maskstyle.train.checkpoint import list_checkpoints
from maskstyle.train.example_ddp import main as example_main

TORCHRUN_ENV = (
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "LOCAL_WORLD_SIZE",
    "GROUP_RANK",
    "TORCHELASTIC_RUN_ID",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(out_dir, steps: int) -> None:
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        "-m",
        "maskstyle.train.example_ddp",
        "--steps",
        str(steps),
        "--out",
        str(out_dir),
        "--no-progress",
        "--checkpoint-every",
        "5",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=100)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_gloo_ranks_train_like_one_process_and_resume(tmp_path):
    ddp_dir, single_dir = tmp_path / "ddp", tmp_path / "single"
    args = ["--no-progress", "--checkpoint-every", "5"]
    # one launch resumes another's checkpoint: 7 steps in a single process, then 2 ranks go on
    # (a checkpoint does not depend on the number of processes; one torchrun keeps this fast)
    example_main(["--steps", "7", "--out", str(ddp_dir), *args])
    torchrun(ddp_dir, steps=12)
    single = example_main(["--steps", "12", "--out", str(single_dir), *args])

    summary = json.loads((ddp_dir / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["backend"] == "gloo"
    assert summary["max_param_diff_across_ranks"] == 0.0  # both ranks end identical
    assert single["world_size"] == 1

    ddp = pd.read_csv(ddp_dir / "history.csv")
    one = pd.read_csv(single_dir / "history.csv")
    assert ddp["step"].tolist() == one["step"].tolist() == list(range(1, 13))
    assert (ddp["mse"].iloc[:7] == one["mse"].iloc[:7]).all()  # same process count: exact
    # same global batches and averaged gradients: equal up to float summation order
    np.testing.assert_allclose(ddp["mse"], one["mse"], rtol=1e-5)
    assert np.isfinite(ddp["mse"]).all()
    assert ddp["mse"].iloc[-4:].mean() < ddp["mse"].iloc[:4].mean()  # it learns

    checkpoints = list_checkpoints(ddp_dir / "checkpoints")
    assert [s for s, _ in checkpoints] == [7, 10, 12]  # keep_last=3
    payload = torch.load(checkpoints[-1][1], weights_only=True)
    assert (payload["rank"], payload["world_size"]) == (0, 2)  # written by rank 0
    assert len(payload["rng_per_rank"]) == 2
    single_payload = torch.load(
        single_dir / "checkpoints" / checkpoints[-1][1].name, weights_only=True
    )
    for name, value in payload["models"]["mlp"].items():
        torch.testing.assert_close(
            value, single_payload["models"]["mlp"][name], rtol=1e-4, atol=1e-6
        )
    leftovers = [p.name for p in ddp_dir.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_single_process_helpers_are_no_ops(monkeypatch):
    for name in TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)
    context = distributed.init_distributed()
    assert (context.rank, context.world_size, context.backend) == (0, 1, None)
    assert context.is_main and distributed.is_main_process()
    assert not distributed.is_distributed()
    model = nn.Linear(2, 2)
    assert distributed.wrap_ddp(model) is model
    assert distributed.all_gather_objects(5) == [5]
    values = torch.tensor([1.0, 2.0])
    assert torch.equal(distributed.mean_across_ranks(values), values)
    distributed.barrier()
    distributed.cleanup()


def test_unwrap_model_removes_wrappers():
    model = nn.Linear(2, 2)
    assert distributed.unwrap_model(nn.DataParallel(model)) is model
    assert distributed.unwrap_model(model) is model


def test_partial_torchrun_environment_is_explained(monkeypatch):
    for name in TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(RuntimeError, match=r"torchrun --nproc_per_node=N"):
        distributed.init_distributed()
