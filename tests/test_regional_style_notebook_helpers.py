"""Helpers the regional style notebooks share (maskstyle.models.regional_style.notebook)."""

from __future__ import annotations

import pytest
import torch

from maskstyle.models.regional_style.model import RegionalStyleNet
from maskstyle.models.regional_style.notebook import (
    fine_tune_grid,
    fit_style_models,
    load_methods,
    load_style_models,
    save_style_models,
    train_args,
)
from maskstyle.models.regional_style.train import parse_args


def _model():
    torch.manual_seed(0)
    return RegionalStyleNet(image_size=32, style_dim=4, encoder_ngf=4, generator_ngf=4,
                            num_up=3, hidden=4).eval()  # fmt: skip


def test_train_args_parse_back(tmp_path):
    args = train_args("sean", 7, tmp_path / "sean", 32, 10, 8, 4, 2, 5.0,
                      ["relu1_1", "relu2_1"], 8, 3, threads=1, lr_g=2e-4, lr_d=8e-4)  # fmt: skip
    parsed = parse_args(args)
    assert (parsed.method, parsed.steps, parsed.size, parsed.faces) == ("sean", 7, 32, 10)
    assert (parsed.style_dim, parsed.ngf, parsed.encoder_ngf, parsed.l1) == (8, 4, 4, 5.0)
    assert parsed.vgg_layers == "relu1_1,relu2_1" and parsed.threads == 1
    assert (parsed.lr_g, parsed.lr_d, parsed.seed) == (2e-4, 8e-4, 3)
    default = parse_args(train_args("ours", 1, tmp_path, 32, 4, 4, 4, 1, 0.0, None, 4, 0))
    assert (default.lr_g, default.lr_d) == (1e-4, 4e-4) and default.vgg_layers is None
    assert (default.generator_norm, default.encoder_norm) == ("instance", "instance")
    assert default.lr_decay_start is None
    cpu = parse_args(train_args("ours", 9, tmp_path, 32, 4, 4, 4, 1, 0.0, None, 4, 0,
                                generator_norm="batch", encoder_norm="none",
                                lr_decay_start=5))  # fmt: skip
    assert (cpu.generator_norm, cpu.encoder_norm, cpu.lr_decay_start) == ("batch", "none", 5)


def test_style_models_fit_save_load_and_fine_tune(tmp_path, one_thread):
    from maskstyle.data.synth import SynthFaces

    model = _model()
    faces = [SynthFaces(6, 32, seed=0)[i] for i in range(6)]
    images = torch.stack([f["image"] for f in faces])
    labels = torch.stack([f["mask"] for f in faces]).long()
    fitted = fit_style_models(model, images, labels, mapping_steps=2, cnf_steps=1, cnf_hidden=8,
                              mapping_hidden=8, progress=False)  # fmt: skip
    assert set(fitted["cnf"]) == {"skin", "hair"} and len(fitted["mapping_history"]) == 2
    assert fitted["cnf"]["skin"].dim == 2 * 4 and fitted["cnf"]["hair"].dim == 4
    path = save_style_models(fitted, tmp_path / "style.pt")
    loaded = load_style_models(path)
    g = torch.Generator().manual_seed(1)
    z = torch.randn(3, 4, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(loaded["mapping"].mappings["hair"](z),
                                   fitted["mapping"].mappings["hair"](z))  # fmt: skip
    grid = fine_tune_grid(model, loaded["cnf"]["skin"], images[0], labels[0], "skin", [0.0, 3.0])
    with torch.no_grad():
        recon = model(images[:1], labels[:1])[0]
    # eta = 0: both rows are the reconstruction (the CNF round trip within its tolerance)
    torch.testing.assert_close(grid["style"][0], recon)
    torch.testing.assert_close(grid["cnf"][0], recon, atol=1e-3, rtol=0)
    assert not torch.allclose(grid["style"][1], recon)
    no_cnf = fit_style_models(model, images, labels, 1, 0, progress=False)
    assert no_cnf["cnf"] == {} and no_cnf["cnf_history"] == {}
    with pytest.raises(FileNotFoundError, match="05_multimodal"):
        load_style_models(tmp_path / "missing.pt")


def test_load_methods_names_the_training_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="02_train"):
        load_methods(tmp_path, ["ours"])
