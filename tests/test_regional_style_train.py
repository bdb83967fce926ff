"""Baselines (SPADE/CLADE VAE, pix2pixHD instance pooling) and the training entry point."""

import json

import pytest
import torch

from maskstyle.models.regional_style.baselines import Pix2PixHDBaseline, SPADEBaseline
from maskstyle.models.regional_style.train import (
    METHODS,
    build_model,
    load_checkpoint_model,
    load_trained,
    main,
    train_cnf,
    train_style_mapping,
)
from maskstyle.nn import region_average_pool


def _batch(b=2, size=16, k=19, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, size, size, generator=g), torch.randint(
        0, k, (b, size, size), generator=g
    )


def test_spade_and_clade_baselines_restyle_the_whole_image(one_thread):
    torch.manual_seed(0)
    x, m = _batch()
    for norm in ("spade", "clade"):
        model = SPADEBaseline(norm, image_size=16, ngf=4, num_up=2, z_dim=4, ndf=4, hidden=4)
        out, kl = model(x, m)
        assert out.shape == x.shape and kl.item() >= 0
        samples = model.sample(x, m, 3)
        assert samples.shape == (2, 3, 3, 16, 16)
        assert model.reconstruct(x, m).shape == x.shape
    with pytest.raises(ValueError, match="norm must be"):
        SPADEBaseline("sean")


def test_pix2pixhd_pools_instances_and_swaps_rows(one_thread):
    torch.manual_seed(0)
    model = Pix2PixHDBaseline(ngf=4).eval()
    x, m = _batch()
    codes = model.encode(x, m)
    assert codes.shape == (2, 19, 3)
    torch.testing.assert_close(codes, region_average_pool(model.feature_net(x * 2 - 1), m, 19))
    none = torch.zeros(19, dtype=torch.bool)
    torch.testing.assert_close(model.transfer(x, m, x.flip(0), m.flip(0), none), model(x, m))


def test_every_method_builds_and_reconstructs(one_thread):
    x, m = _batch()
    for method in METHODS:
        torch.manual_seed(0)
        model = build_model(
            method, image_size=16, style_dim=4, ngf=4, encoder_ngf=4, num_up=2, hidden=4, z_dim=4
        )
        out = model(x, m)
        out = out[0] if isinstance(out, tuple) else out
        assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1, method
    with pytest.raises(ValueError, match="method must be one of"):
        build_model("dovenet")


def test_training_cli_writes_a_model_that_reloads_and_knows_its_settings(tmp_path, one_thread):
    from maskstyle.train import SettingsMismatch

    args = (
        "--method ours --size 32 --num-up 2 --ngf 4 --encoder-ngf 4 --style-dim 4 --faces 4 "
        "--steps 2 --batch-size 2 --vgg-layers relu1_1,relu2_1 --ndf 8"
    ).split() + ["--out", str(tmp_path / "run")]
    summary = main(args)
    assert summary["settings"]["method"] == "ours"
    assert set(summary["final"]) >= {"d_hinge", "g_hinge", "feat_match", "vgg"}
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["settings"]["architecture"]["style_dim"] == 4
    assert list(saved["settings"]["vgg_layers"]) == ["relu1_1", "relu2_1"]
    model = load_trained(tmp_path / "run")
    x = torch.rand(1, 3, 32, 32)
    m = torch.randint(0, 19, (1, 32, 32))
    assert model(x, m).shape == (1, 3, 32, 32)
    with pytest.raises(SettingsMismatch):
        main([*args[:-2], "--l1", "1.0", "--steps", "3", "--out", str(tmp_path / "run")])
    with pytest.raises(ValueError, match="unknown VGG layers"):
        main([*args[:-2], "--vgg-layers", "relu9_9", "--out", str(tmp_path / "other")])
    with pytest.raises(FileNotFoundError, match="train first"):
        load_trained(tmp_path / "missing")


def test_norm_options_choose_the_normalisation_layers():
    from torch import nn

    kw = dict(image_size=16, style_dim=4, ngf=4, encoder_ngf=4, num_up=2, hidden=4, z_dim=4)
    default = build_model("ours", **kw)
    assert any(isinstance(m, nn.InstanceNorm2d) for m in default.encoder.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in default.generator.modules())
    cpu = build_model("ours", generator_norm="batch", encoder_norm="none", **kw)
    assert not any(isinstance(m, nn.InstanceNorm2d) for m in cpu.encoder.modules())
    norms = [m.norm for m in cpu.generator.modules() if hasattr(m, "norm")]
    assert norms and all(isinstance(n, nn.BatchNorm2d) for n in norms)
    for method in ("spade", "clade_icpe", "groupdnet"):
        model = build_model(method, generator_norm="batch", **kw)
        assert any(isinstance(m, nn.BatchNorm2d) for m in model.generator.modules()), method
    with pytest.raises(ValueError, match="norm must be one of"):
        build_model("sean", encoder_norm="batch", **kw)
    # batch norm in eval mode: an image's output does not depend on its batch mates
    cpu.eval()
    x, m = _batch(2)
    torch.testing.assert_close(cpu(x, m)[:1], cpu(x[:1], m[:1]))


def test_training_cli_decays_the_learning_rate_to_zero(tmp_path, one_thread):
    args = (
        "--method sean --size 32 --num-up 2 --ngf 4 --encoder-ngf 4 --style-dim 4 --faces 4 "
        "--steps 4 --batch-size 2 --vgg-layers relu1_1 --ndf 8 --lr-decay-start 2 "
        "--generator-norm batch --encoder-norm none --checkpoint-every 2"
    ).split() + ["--out", str(tmp_path / "run")]
    summary = main(args)
    assert summary["settings"]["lr_decay_start"] == 2
    assert summary["settings"]["architecture"]["generator_norm"] == "batch"
    state = torch.load(sorted((tmp_path / "run" / "checkpoints").glob("*.pt"))[-1],
                       weights_only=False)  # fmt: skip
    for name, lr in (("g", 1e-4), ("d", 4e-4)):
        assert state["schedulers"][name]["_last_lr"][0] == pytest.approx(0.0)
        assert state["schedulers"][name]["base_lrs"][0] == pytest.approx(lr)
    assert isinstance(load_trained(tmp_path / "run").generator.head.norm_0.norm,
                      torch.nn.BatchNorm2d)  # fmt: skip
    with pytest.raises(ValueError, match="lr_decay_start must lie"):
        main([*args[:-2], "--lr-decay-start", "4", "--out", str(tmp_path / "other")])


def test_style_mapping_and_cnf_fits_lower_their_losses(one_thread):
    from maskstyle.models.regional_style import RegionalStyleMapping, StyleCNF

    torch.manual_seed(0)
    styles = torch.randn(64, 19, 4) * 0.2 + 0.5
    present = torch.ones(64, 19, dtype=torch.bool)
    rsm = RegionalStyleMapping(4, z_dim=4, hidden=16)
    hist = train_style_mapping(rsm, styles, present, steps=5, batch_size=16, progress=False)
    assert len(hist) == 5 and set(hist[0]) == {"skin_d", "skin_g", "hair_d", "hair_g"}
    present[:, 13] = False
    with pytest.raises(ValueError, match="fewer than 2 images"):
        train_style_mapping(rsm, styles, present, steps=1, progress=False)
    # two clusters: after the fit's whitening a Gaussian is not yet the optimum
    sign = torch.randint(0, 2, (64, 1)) * 2 - 1
    codes = sign * torch.tensor([1.0, 0.5]) + 0.1 * torch.randn(64, 2)
    cnf = StyleCNF(2, hidden=8, method="rk4")
    nll = train_cnf(cnf, codes, steps=60, batch_size=64, lr=3e-2, progress=False)
    torch.testing.assert_close(cnf.shift, codes.mean(0))  # whitening set from the codes
    assert sum(nll[-3:]) / 3 < sum(nll[:3]) / 3 - 0.1


def test_evaluation_interface_on_untrained_models(one_thread):
    from maskstyle.metrics import HarmonyClassifier
    from maskstyle.models.regional_style import RegionalStyleMapping, StyleCNF
    from maskstyle.models.regional_style.data import cross_lighting_transfer
    from maskstyle.models.regional_style.evaluate import (
        diversity_row,
        harmony_row,
        reconstruct,
        regional_samples,
        style_code_timing,
        transfer,
    )

    torch.manual_seed(0)
    cases = cross_lighting_transfer(2, "skin", size=32, seed=0)
    kw = dict(image_size=32, style_dim=4, ngf=4, encoder_ngf=4, num_up=2, hidden=4, z_dim=4)
    ours, spade = build_model("ours", **kw).eval(), build_model("spade", **kw).eval()
    x, m = cases["target"], cases["target_labels"]
    assert reconstruct(ours, x, m).shape == x.shape
    assert reconstruct(spade, x, m).shape == x.shape
    out = transfer(ours, x, m, cases["reference"], cases["reference_labels"], "skin")
    assert out.shape == x.shape
    with pytest.raises(ValueError, match="cannot transfer a region"):
        transfer(spade, x, m, cases["reference"], cases["reference_labels"], "skin")
    rsm = RegionalStyleMapping(4, z_dim=4, hidden=8)
    cnf = StyleCNF(8, hidden=8, method="rk4")
    for kwargs in ({"mapping": rsm}, {"cnf": cnf}):
        samples = regional_samples(ours, x, m, "skin", 3, **kwargs)
        assert samples.shape == (2, 3, 3, 32, 32)
        row = diversity_row(samples, m, "skin")
        assert row["mcsd"] >= 0 and row["mocd"] >= 0
    with pytest.raises(ValueError, match="exactly one"):
        regional_samples(ours, x, m, "skin", 3)
    assert regional_samples(spade, x, m, "skin", 2).shape == (2, 2, 3, 32, 32)
    hs = harmony_row(out, cases["truth"], m, "skin", HarmonyClassifier(width=4, depth=2))
    assert 0 <= hs["harmony_score"] <= 1 and hs["harmony_error_region"] > 0
    timing = style_code_timing(rsm, cnf, "skin", repeats=2)
    assert timing["mapping_vs_cnf_speedup"] == pytest.approx(timing["cnf_s"] / timing["mapping_s"])


def test_per_image_psnr_is_batch_independent(one_thread):
    from maskstyle.metrics import psnr
    from maskstyle.models.regional_style.evaluate import per_image_psnr, reconstruct
    from maskstyle.models.regional_style.notebook import face_batch

    torch.manual_seed(0)
    kw = dict(image_size=32, style_dim=4, ngf=4, encoder_ngf=4, num_up=2, hidden=4, z_dim=4,
              generator_norm="batch")
    model = build_model("ours", **kw).eval()
    faces = face_batch(5, 32, 0)
    whole = psnr(reconstruct(model, faces["images"], faces["labels"]), faces["images"],
                 reduction="none")
    torch.testing.assert_close(per_image_psnr(model, faces["images"], faces["labels"], 2), whole)


def test_checkpoint_study_compares_ours_and_sean_at_every_kept_step(tmp_path, one_thread):
    from maskstyle.models.regional_style.evaluate import (
        checkpoint_study,
        paired_difference,
        per_image_psnr,
    )

    base = (
        "--size 32 --num-up 2 --ngf 4 --encoder-ngf 4 --style-dim 4 --faces 4 --steps 2 "
        "--batch-size 2 --vgg-layers relu1_1 --ndf 8 --checkpoint-every 1"
    ).split()
    for method in ("ours", "sean"):
        main([*base, "--method", method, "--out", str(tmp_path / "models" / method)])
    images, labels = _batch(3, 32)
    study = checkpoint_study({0: tmp_path / "models"}, images, labels)
    assert list(study["step"]) == [1, 2] and list(study["seed"]) == [0, 0]
    # the last checkpoint is the saved model: the same numbers as the final pair
    final = {}
    for m in ("ours", "sean"):
        model = load_trained(tmp_path / "models" / m)
        torch.manual_seed(0)  # the generator's noise: the study's draws (noise_seed 0)
        final[m] = per_image_psnr(model, images, labels)
    want = paired_difference(final["ours"], final["sean"])
    assert study["ours_minus_sean"].iloc[-1] == pytest.approx(want["mean_difference"], abs=1e-5)
    assert study["psnr_ours"].iloc[-1] == pytest.approx(float(final["ours"].mean()), abs=1e-5)
    assert study["ours_minus_sean"].iloc[0] != study["ours_minus_sean"].iloc[-1]
    with pytest.raises(FileNotFoundError, match="saved steps"):
        load_checkpoint_model(tmp_path / "models" / "ours", 7)
    with pytest.raises(FileNotFoundError, match="train first"):
        load_checkpoint_model(tmp_path / "missing", 1)
    with pytest.raises(FileNotFoundError, match="no step with a checkpoint"):
        checkpoint_study({0: tmp_path / "nothing"}, images, labels)
