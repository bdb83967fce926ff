"""The embedded FPB (face-world pairs) and a short, resumable LRNet training run."""

from __future__ import annotations

import pytest
import torch

from maskstyle.models.lrnet.data import FaceWorldBlendPairs, collate_pairs, split_indices
from maskstyle.models.lrnet.regions import NUM_LRNET_REGIONS
from maskstyle.models.lrnet.train import build_lrnet, load_trained_lrnet, main, train_lrnet


def test_split_is_70_30_and_disjoint():
    train, val = split_indices(10, "train"), split_indices(10, "val")
    assert list(train) == list(range(7)) and list(val) == [7, 8, 9]
    with pytest.raises(ValueError, match="split must be"):
        split_indices(10, "test")
    with pytest.raises(ValueError, match="empty"):
        FaceWorldBlendPairs(1, size=48, split="val")


def test_pairs_are_aligned_lrnet_samples():
    pairs = FaceWorldBlendPairs(2, size=48, seed=3)
    sample = pairs[0]
    assert sample["x_a"].shape == sample["target"].shape == (3, 48, 48)
    assert (
        sample["regions_a"].max() < NUM_LRNET_REGIONS and sample["regions_a"].dtype == torch.int64
    )
    # the coordinates live on the unit sphere on face pixels and are zero elsewhere
    norms = sample["coords_a"].norm(dim=0)
    assert torch.allclose(norms[norms > 0], torch.ones(()), atol=1e-5)
    again = FaceWorldBlendPairs(2, size=48, seed=3, cache=False)[0]
    assert torch.equal(again["x_b"], sample["x_b"])  # deterministic
    batch = collate_pairs([pairs[0], pairs[1]])
    assert batch["x_a"].shape == (2, 3, 48, 48) and batch["index"].tolist() == [0, 1]


def test_training_logs_four_losses_and_resumes(tmp_path):
    pairs = FaceWorldBlendPairs(2, size=48, seed=0)
    model = build_lrnet(seed=0)
    before = [p.clone() for p in model.decoder.parameters()]
    history = train_lrnet(model, pairs, steps=2, out_dir=tmp_path, log_every=1)
    frame = history.to_frame()
    assert list(frame["step"]) == [1, 2]
    assert {"rec", "cycle", "grad", "style", "total"} <= set(frame.columns)
    assert frame[["rec", "cycle", "grad", "style"]].notna().all().all()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.decoder.parameters()))
    assert "trained 2 steps" in model.provenance["decoder"]
    assert (tmp_path / "history.csv").exists() and any((tmp_path / "checkpoints").iterdir())
    # running again to the same step count resumes and does nothing
    resumed = train_lrnet(build_lrnet(seed=0), pairs, steps=2, out_dir=tmp_path, log_every=1)
    assert len(resumed.to_frame()) == 2


def test_command_line_run_saves_a_loadable_model(tmp_path):
    args = "--steps 1 --size 48 --pairs 2 --branches localin --no-coords --no-progress".split()
    args += ["--out", str(tmp_path), "--log-every", "1"]
    summary = main(args)
    assert summary["branches"] == ["localin"] and "random init" in summary["weights"]
    model = load_trained_lrnet(tmp_path)
    assert model.branches == ("localin",) and "trained 1 steps" in model.provenance["decoder"]
    with pytest.raises(FileNotFoundError, match="train first"):
        load_trained_lrnet(tmp_path / "elsewhere")


def test_evaluation_table_has_every_method_and_honest_metrics():
    from maskstyle.baselines.blending import StyleBlending
    from maskstyle.models.lrnet.evaluate import baseline_methods, evaluate_blending

    pairs = FaceWorldBlendPairs(3, size=48, seed=0, split="all")
    model = build_lrnet(seed=0).eval()
    methods = baseline_methods(model, StyleBlending(weights="random"))

    class MeanColour(torch.nn.Module):  # a tiny stand-in for Inception: keeps the test fast
        def forward(self, x):
            return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

    table, blends = evaluate_blending(methods, pairs, fid_extractor=MeanColour())
    assert list(table["method"]) == ["alpha", "poisson", "style", "lrnet"]
    assert blends["lrnet"].shape == (3, 3, 48, 48)
    assert (table["time_s"] > 0).all() and table["fid"].notna().all()
    assert table["psnr"].between(5, 60).all() and table["ssim"].between(-1, 1).all()
    # the ground truth shares B's background: the alpha baseline (B outside the face) must
    # beat a constant grey image by a wide margin
    from maskstyle.metrics import psnr

    grey = torch.full_like(blends["alpha"], 0.5)
    targets = torch.stack([pairs[i]["target"] for i in range(3)])
    assert table.set_index("method").loc["alpha", "psnr"] > float(psnr(grey, targets)) + 5
