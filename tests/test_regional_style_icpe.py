"""CLADE-ICPE: the intra-class positional encoding against a brute-force loop, and CLADE's
modulation with it against its formula."""

import numpy as np
import pytest
import torch

from maskstyle.models.regional_style.baselines import SPADEBaseline
from maskstyle.nn import CLADE, intra_class_positions

# a hand-made 5 x 6 map: class 0 an L, class 1 a block, class 2 a single column, class 3 one
# pixel, class 4 absent
HAND = torch.tensor(
    [
        [0, 0, 0, 1, 1, 2],
        [0, 1, 1, 1, 1, 2],
        [0, 1, 1, 1, 1, 2],
        [0, 0, 3, 1, 1, 2],
        [0, 0, 0, 0, 0, 2],
    ]
)


def _icpe_loop(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per class: centre = mean pixel coordinate, offsets over the largest |offset|."""
    h, w = labels.shape
    out = np.zeros((2, h, w))
    for k in range(num_classes):
        pixels = [(i, j) for i in range(h) for j in range(w) if labels[i, j] == k]
        if not pixels:
            continue
        ch = sum(p[0] for p in pixels) / len(pixels)
        cw = sum(p[1] for p in pixels) / len(pixels)
        max_h = max(abs(p[0] - ch) for p in pixels)
        max_w = max(abs(p[1] - cw) for p in pixels)
        for i, j in pixels:
            out[0, i, j] = (i - ch) / max_h if max_h > 0 else 0.0
            out[1, i, j] = (j - cw) / max_w if max_w > 0 else 0.0
    return out


def test_icpe_matches_a_brute_force_loop_on_a_hand_made_map():
    got = intra_class_positions(HAND[None], 5)
    assert got.shape == (1, 2, 5, 6)
    want = torch.from_numpy(_icpe_loop(HAND.numpy(), 5)).float()
    torch.testing.assert_close(got[0], want, atol=1e-5, rtol=1e-5)
    # hand-checked values: the single column (class 2) spans rows 0..4 around row 2
    torch.testing.assert_close(got[0, 0, :, 5], torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]))
    torch.testing.assert_close(got[0, 1, :, 5], torch.zeros(5))  # one column wide: 0
    torch.testing.assert_close(got[0, :, 3, 2], torch.zeros(2))  # a one-pixel class: 0


def test_icpe_is_in_unit_range_reaches_it_per_class_and_is_per_sample():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (3, 7, 9), generator=g)
    pos = intra_class_positions(labels, 4)
    assert pos.abs().max() <= 1 + 1e-6
    for b in range(3):
        want = torch.from_numpy(_icpe_loop(labels[b].numpy(), 4)).float()
        torch.testing.assert_close(pos[b], want, atol=1e-5, rtol=1e-5)
        for k in labels[b].unique():
            inside = pos[b][:, labels[b] == k]
            for axis in range(2):  # some pixel of every class sits at its extent (|P| = 1)
                top = float(inside[axis].abs().max())
                assert top == 0.0 or top == pytest.approx(1.0)


def test_icpe_bad_inputs_have_clear_errors():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        intra_class_positions(HAND[None], 3)
    with pytest.raises(ValueError):
        intra_class_positions(HAND, 5)  # no batch dimension


def _instance_norm(x):
    mu = x.mean((2, 3), keepdim=True)
    var = x.var((2, 3), keepdim=True, unbiased=False)
    return (x - mu) / torch.sqrt(var + 1e-5)


def test_clade_icpe_starts_as_clade_and_follows_its_formula():
    torch.manual_seed(0)
    plain, icpe = CLADE(3, 5), CLADE(3, 5, icpe=True)
    with torch.no_grad():
        for p in (plain.gamma, plain.beta):
            p.normal_()
        icpe.gamma.copy_(plain.gamma)
        icpe.beta.copy_(plain.beta)
    x, m = torch.randn(2, 3, 5, 6), torch.stack([HAND, HAND.flip(1)])
    torch.testing.assert_close(icpe(x, m), plain(x, m))  # zero-initialised convs: CLADE
    with torch.no_grad():
        for conv in (icpe.icpe_gamma, icpe.icpe_beta):
            conv.weight.normal_()
            conv.bias.normal_()
    out = icpe(x, m)
    xn = _instance_norm(x)
    wg, bg = icpe.icpe_gamma.weight.view(2), icpe.icpe_gamma.bias
    wb, bb = icpe.icpe_beta.weight.view(2), icpe.icpe_beta.bias
    for b in range(2):
        pos = torch.from_numpy(_icpe_loop(m[b].numpy(), 5)).float()
        for i in range(5):
            for j in range(6):
                c, p = m[b, i, j], pos[:, i, j]
                scale = (1 + icpe.gamma[c]) * (1 + p @ wg + bg)
                shift = icpe.beta[c] * (1 + p @ wb + bb)
                want = xn[b, :, i, j] * scale + shift
                torch.testing.assert_close(out[b, :, i, j], want, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(out, plain(x, m))  # position now matters inside a class


def test_clade_icpe_baseline_has_the_baselines_interface():
    torch.manual_seed(0)
    model = SPADEBaseline("clade_icpe", image_size=16, ngf=4, num_up=2, z_dim=4, ndf=4, hidden=4)
    assert sum(isinstance(mod, CLADE) and mod.icpe_gamma is not None for mod in model.modules())
    x, m = torch.rand(2, 3, 16, 16), torch.randint(0, 19, (2, 16, 16))
    out, kl = model(x, m)
    assert out.shape == x.shape and kl.item() >= 0
    assert model.reconstruct(x, m).shape == x.shape
    assert model.sample(x, m, 3).shape == (2, 3, 3, 16, 16)
