"""CNF over style codes (Eqs. 7-8) and the regional style mapping networks (Eqs. 3, 6)."""

import math

import pytest
import torch
from torch import nn

from maskstyle.models.regional_style import (
    RegionalStyleMapping,
    StyleCNF,
    fine_tune_style_space,
    random_direction,
)


class LinearField(nn.Module):
    """f(s, l) = s A^T: the flow is s -> s expm(A T)^T with log-det T tr(A)."""

    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(a)

    def forward(self, t, s):
        return s @ self.a.T


def _cnf(dim=4, **kw):
    torch.manual_seed(0)
    return StyleCNF(dim, hidden=16, rtol=1e-7, atol=1e-7, **kw)


def test_cnf_encode_then_decode_returns_the_code():
    cnf = _cnf()
    s = torch.randn(5, 4)
    z = cnf.encode(s)
    assert z.shape == s.shape and not torch.allclose(z, s, atol=1e-3)
    torch.testing.assert_close(cnf.decode(z), s, atol=1e-4, rtol=1e-4)
    rows = s.view(5, 2, 2)  # a group's rows flatten to the code
    torch.testing.assert_close(cnf.encode(rows), z)


def test_cnf_matches_the_closed_form_of_a_linear_field():
    a = torch.tensor([[0.3, -0.5, 0.0], [0.2, 0.1, 0.4], [0.0, -0.3, -0.2]])
    cnf = _cnf(3, func=LinearField(a), T=0.7)
    s = torch.randn(4, 3)
    want = s @ torch.linalg.matrix_exp(a * 0.7).T  # Eq. 7 solved exactly
    torch.testing.assert_close(cnf.encode(s), want, atol=1e-5, rtol=1e-5)
    log_n = -0.5 * (want.square().sum(1) + 3 * math.log(2 * math.pi))
    torch.testing.assert_close(
        cnf.log_prob(s, exact=True), log_n + 0.7 * torch.trace(a), atol=1e-5, rtol=1e-5
    )


def test_cnf_hutchinson_trace_is_exact_for_a_diagonal_field():
    a = torch.diag(torch.tensor([0.5, -0.2, 0.1, 0.3]))
    cnf = _cnf(4, func=LinearField(a))
    s = torch.randn(3, 4)
    torch.testing.assert_close(cnf.log_prob(s), cnf.log_prob(s, exact=True), atol=1e-5, rtol=1e-5)


def test_fine_tuning_in_z_space_follows_eqs_7_and_8():
    cnf = _cnf()
    s = torch.randn(2, 4)
    d = random_direction(2, 4, torch.Generator().manual_seed(1))
    torch.testing.assert_close(d.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(cnf.fine_tune(s, d, 0.0), s, atol=1e-4, rtol=1e-4)
    moved = cnf.fine_tune(s, 3 * d, 0.5)  # direction normalised to unit length
    torch.testing.assert_close(moved, cnf.decode(cnf.encode(s) + 0.5 * d), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fine_tune_style_space(s, 3 * d, 0.5), s + 0.5 * d)


def test_cnf_bad_inputs():
    cnf = _cnf()
    with pytest.raises(ValueError, match=r"must be \[B, 4\]"):
        cnf.encode(torch.randn(2, 5))
    with pytest.raises(ValueError, match="positive"):
        StyleCNF(4, T=0.0)


def test_cnf_maximum_likelihood_step_raises_log_likelihood():
    torch.manual_seed(0)
    cnf = StyleCNF(2, hidden=16, method="rk4")
    data = torch.randn(64, 2) * 0.3 + torch.tensor([1.0, -1.0])
    opt = torch.optim.Adam(cnf.parameters(), lr=1e-2)
    before = float(cnf.log_prob(data, exact=True).mean().detach())
    for _ in range(15):
        loss = -cnf.log_prob(data, exact=True).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(cnf.log_prob(data, exact=True).mean().detach()) > before + 0.3


def test_mapping_shapes_insertion_and_real_rows():
    torch.manual_seed(0)
    rsm = RegionalStyleMapping(style_dim=6, z_dim=3, hidden=8)
    assert rsm.indices == {"skin": [1, 2], "hair": [13]}
    assert rsm.sample("skin", 4).shape == (4, 2, 6)
    assert rsm.sample("hair", 4).shape == (4, 1, 6)
    styles = torch.randn(3, 19, 6)
    rows = torch.randn(3, 2, 6)
    out = rsm.insert(styles, "skin", rows)
    torch.testing.assert_close(out[:, [1, 2]], rows)
    keep = [i for i in range(19) if i not in (1, 2)]
    torch.testing.assert_close(out[:, keep], styles[:, keep])
    present = torch.ones(3, 19, dtype=torch.bool)
    present[1, 13] = False  # sample 1 has no hair
    assert rsm.real_rows(styles, "hair", present).shape == (2, 1, 6)
    with pytest.raises(ValueError, match="unknown group"):
        rsm.sample("beard", 1)
    with pytest.raises(ValueError, match="unknown region name"):
        RegionalStyleMapping(6, groups={"x": ("skinn",)})


def test_mapping_losses_are_eq_6():
    torch.manual_seed(0)
    rsm = RegionalStyleMapping(style_dim=4, z_dim=3, hidden=8)
    real = torch.randn(5, 1, 4)
    torch.manual_seed(1)
    d_loss, g_loss = rsm.losses(real, "hair")
    torch.manual_seed(1)
    fake = rsm.mappings["hair"](torch.randn(5, 3))
    d = rsm.discriminators["hair"]
    # Eq. 6: D maximises E log D(s_s) + E log(1 - D(M(z)))
    want_d = -(
        torch.log(torch.sigmoid(d(real))).mean() + torch.log(1 - torch.sigmoid(d(fake))).mean()
    )
    want_g = -torch.log(torch.sigmoid(d(fake))).mean()
    torch.testing.assert_close(d_loss, want_d, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(g_loss, want_g, atol=1e-5, rtol=1e-5)


class ZeroField(nn.Module):
    """f = 0: the flow is the identity, so only the whitening acts."""

    def forward(self, t, s):
        return 0.0 * s  # (depends on s, so the trace is defined: 0)


def test_cnf_whitening_is_the_gaussian_of_the_codes_mean_and_covariance():
    torch.manual_seed(0)
    mix = torch.tensor([[0.1, 0.0, 0.0], [0.3, 0.5, 0.0], [-1.0, 0.4, 2.0]])
    codes = torch.randn(500, 3) @ mix.T + torch.tensor([1.0, -2.0, 0.0])
    cnf = StyleCNF(3, func=ZeroField(), rtol=1e-7, atol=1e-7)
    cnf.set_whitening(codes)
    cov = torch.cov(codes.T)
    torch.testing.assert_close(cnf.shift, codes.mean(0))
    torch.testing.assert_close(cnf.colour @ cnf.colour, cov, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(cnf.whiten @ cnf.colour, torch.eye(3), atol=1e-5, rtol=1e-5)
    s = torch.randn(4, 3)
    # change of variables of s -> Sigma^{-1/2} (s - mu): log N(s; mu, Sigma)
    want = torch.distributions.MultivariateNormal(codes.mean(0), cov).log_prob(s)
    torch.testing.assert_close(cnf.log_prob(s, exact=True), want, atol=1e-4, rtol=1e-4)
    z = cnf.encode(codes)  # the latent of the codes is white
    torch.testing.assert_close(torch.cov(z.T), torch.eye(3), atol=1e-4, rtol=1e-4)


def test_cnf_with_whitening_inverts_and_survives_a_state_dict():
    cnf = _cnf()
    codes = torch.randn(50, 4) * 0.15 + 0.3
    cnf.set_whitening(codes)
    torch.testing.assert_close(cnf.decode(cnf.encode(codes[:5])), codes[:5], atol=1e-4, rtol=1e-4)
    again = _cnf()
    again.load_state_dict(cnf.state_dict())
    torch.testing.assert_close(again.encode(codes[:5]), cnf.encode(codes[:5]))
    rank_one = torch.randn(10, 1) * torch.ones(1, 4)  # degenerate directions stay invertible
    cnf.set_whitening(rank_one)
    torch.testing.assert_close(cnf.decode(cnf.encode(rank_one)), rank_one, atol=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="at least 2 codes"):
        cnf.set_whitening(codes[:1])


def test_nearest_code_distance_matches_a_brute_force_loop():
    from maskstyle.models.regional_style.evaluate import nearest_code_distance

    torch.manual_seed(0)
    codes, bank = torch.randn(5, 3), torch.randn(7, 3)
    want = [min(float((c - b).norm()) for b in bank) for c in codes]
    torch.testing.assert_close(nearest_code_distance(codes, bank), torch.tensor(want))
    with pytest.raises(ValueError, match="share D"):
        nearest_code_distance(codes, torch.randn(7, 4))


def test_fine_tune_realism_rows():
    from maskstyle.models.regional_style.evaluate import fine_tune_realism

    torch.manual_seed(0)
    # real codes spread along one axis: z moves follow it (whitened latent), style moves not
    bank = torch.randn(400, 4) * torch.tensor([1.0, 0.01, 0.01, 0.01])
    held_out = torch.randn(20, 4) * torch.tensor([1.0, 0.01, 0.01, 0.01])
    cnf = StyleCNF(4, func=ZeroField(), rtol=1e-7, atol=1e-7)
    cnf.set_whitening(bank)
    rows = fine_tune_realism(cnf, held_out, bank, etas=[0.0, 3.0], seed=0)
    table = {(r["eta"], r["space"]): r for r in rows}
    assert len(rows) == 6
    for space in ("z (CNF)", "style", "style, z's length"):
        assert table[(0.0, space)]["move"] == pytest.approx(0.0, abs=1e-5)
        assert table[(0.0, space)]["nn_ratio"] == pytest.approx(1.0, rel=1e-4)
    z, same = table[(3.0, "z (CNF)")], table[(3.0, "style, z's length")]
    assert same["move"] == pytest.approx(z["move"], rel=1e-4)
    assert table[(3.0, "style")]["move"] == pytest.approx(3.0, rel=1e-4)
    assert z["nn_ratio"] < same["nn_ratio"]  # direction alone: z stays near the real codes


def test_paired_difference_is_the_mean_and_standard_error_of_the_differences():
    from maskstyle.models.regional_style.evaluate import paired_difference

    a, b = torch.tensor([3.0, 5.0, 4.0, 8.0]), torch.tensor([1.0, 4.0, 4.0, 5.0])
    d = [2.0, 1.0, 0.0, 3.0]  # mean 1.5; unbiased var = (0.25 + 0.25 + 2.25 + 2.25) / 3
    out = paired_difference(a, b)
    assert out["mean_difference"] == pytest.approx(1.5)
    assert out["stderr"] == pytest.approx(math.sqrt(5.0 / 3.0) / 2.0)
    assert out["n"] == len(d)
    with pytest.raises(ValueError, match="paired samples"):
        paired_difference(a, b[:3])


def test_seed_study_rows_per_seed_and_the_mean_over_seeds():
    from maskstyle.models.regional_style.evaluate import seed_study

    per_face = {
        0: {"ours": torch.tensor([20.0, 22.0, 24.0]), "sean": torch.tensor([21.0, 22.0, 23.5])},
        1: {"ours": torch.tensor([21.0, 21.0, 21.0]), "sean": torch.tensor([20.0, 20.0, 20.5])},
    }
    table = seed_study(per_face).set_index("seed")
    # seed 0: differences -1, 0, 0.5 -> mean -1/6; seed 1: 1, 1, 0.5 -> mean 5/6
    assert table.loc["0", "ours_minus_sean"] == pytest.approx(-1 / 6)
    assert table.loc["1", "ours_minus_sean"] == pytest.approx(5 / 6)
    assert table.loc["0", "psnr_ours"] == pytest.approx(22.0)
    assert table.loc["mean", "ours_minus_sean"] == pytest.approx(1 / 3)
    # over seeds: std of (-1/6, 5/6) = sqrt(0.5), / sqrt(2) -> 0.5
    assert table.loc["mean", "stderr"] == pytest.approx(0.5)
    assert table.loc["mean", "psnr_sean"] == pytest.approx((66.5 / 3 + 60.5 / 3) / 2)
    with pytest.raises(ValueError, match=">= 2 seeds"):
        seed_study({0: per_face[0]})
    with pytest.raises(ValueError, match="lacks"):
        seed_study({0: per_face[0], 1: {"ours": per_face[1]["ours"]}})
