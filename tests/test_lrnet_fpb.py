"""The FPB generation algorithm (Eqs. 1-2, Section 3.2) with linear stand-ins."""

from __future__ import annotations

import pytest
import torch

from maskstyle.models.lrnet.fpb import (
    FaceAttributes,
    FPBConfig,
    attribute_distances,
    fpb_loss,
    generate_pair,
    stop_criteria,
)

DIM = 12
_g = torch.Generator().manual_seed(0)
P_O, P_C, P_ID = (torch.randn(n, DIM, generator=_g) for n in (3, 32, 6))


def generator(z):
    return z  # the "image" is the latent itself


def estimator(x):
    return FaceAttributes(x @ P_O.T, (x @ P_C.T).view(-1, 16, 2), x @ P_ID.T)


def closed_form_gradient(n, cfg):
    """d/dn of Eq. 1 for x = z + n and linear estimators: sum_i s_i lambda_i P^T P n / |P n|."""
    grad = torch.zeros_like(n)
    for proj, lam in ((P_O, cfg.lambda_o), (P_C, cfg.lambda_c), (P_ID, -cfg.lambda_id)):
        v = n @ proj.T
        grad = grad + lam * (v @ proj) / v.norm(dim=1, keepdim=True)
    return grad


def test_one_update_is_eq_2_with_the_closed_form_gradient():
    z = torch.randn(2, DIM, generator=torch.Generator().manual_seed(1))
    n0 = torch.randn(2, DIM, generator=torch.Generator().manual_seed(2))
    cfg = FPBConfig(max_iterations=1, step_size=0.01, early_stop=False)
    result = generate_pair(generator, estimator, z, cfg, noise=n0)
    torch.testing.assert_close(result.noise, n0 - 0.01 * closed_form_gradient(n0, cfg))
    assert result.iterations.tolist() == [1, 1] and len(result.history) == 2
    torch.testing.assert_close(result.x_b, z + result.noise)


def test_loss_and_stop_criteria_use_the_papers_values():
    cfg = FPBConfig()
    assert (cfg.lambda_o, cfg.lambda_c, cfg.lambda_id, cfg.max_iterations) == (0.1, 100, 0.001, 80)
    a = FaceAttributes(torch.zeros(2, 3), torch.zeros(2, 16, 2), torch.zeros(2, 4))
    b = FaceAttributes(
        torch.tensor([[3.0, 4.0, 0.0], [30.0, 40.0, 0.0]]),  # |d_o| = 5 and 50
        torch.full((2, 16, 2), 0.001),  # |d_c| = sqrt(32) * 0.001
        torch.tensor([[2000.0, 0, 0, 0], [2000.0, 0, 0, 0]]),
    )
    d = attribute_distances(a, b)
    expected = torch.tensor([0.5, 5.0]) + 100 * 32**0.5 * 0.001 - 0.001 * 2000
    torch.testing.assert_close(fpb_loss(d, cfg), expected)
    assert stop_criteria(d, cfg).tolist() == [True, False]


def test_descent_lowers_the_loss_and_stops_per_sample():
    z = torch.randn(3, DIM, generator=torch.Generator().manual_seed(3))
    cfg = FPBConfig(step_size=0.002, max_iterations=30, early_stop=False)
    result = generate_pair(generator, estimator, z, cfg, seed=4)
    losses = torch.tensor([h["loss"] for h in result.history])  # [T, B]
    assert (losses[-1] < losses[0]).all()
    assert not result.converged.any() and result.iterations.tolist() == [30, 30, 30]
    # thresholds that sample 0 meets at once: it stops, the others run to the cap
    d0 = torch.tensor([result.history[0][k] for k in ("orientation", "contour", "identity")])
    cfg_stop = FPBConfig(
        step_size=0.002, max_iterations=5,
        stop_orientation=float(d0[0, 0]) + 1e-3, stop_contour=float(d0[1, 0]) + 1e-3,
        stop_identity=float(d0[2, 0]) - 1e-3,
    )  # fmt: skip
    stopped = generate_pair(generator, estimator, z, cfg_stop, seed=4)
    assert stopped.converged[0] and stopped.iterations[0] == 0
    assert stopped.iterations[1:].tolist() == [5, 5]
    again = generate_pair(generator, estimator, z, cfg, seed=4)
    assert torch.equal(again.x_b, result.x_b)  # same seed, same pair


def test_fpb_bad_inputs():
    z = torch.zeros(2, DIM)
    with pytest.raises(ValueError, match="latent's shape"):
        generate_pair(generator, estimator, z, noise=torch.zeros(2, 3))
    with pytest.raises(TypeError, match="FaceAttributes"):
        generate_pair(generator, lambda x: (x, x, x), z)
    with pytest.raises(ValueError, match="max_iterations"):
        FPBConfig(max_iterations=-1)


def test_face_world_standins_run_fpb_end_to_end():
    from maskstyle.models.lrnet.standins import identity_vector, train_fpb_standins

    standins = train_fpb_standins(count=8, size=32, steps=2, batch_size=4, seed=0, log_every=1)
    assert len(standins.history) == 2 and "not StyleGAN2" in standins.provenance["weights"]
    cfg = standins.config
    assert cfg.lambda_id * cfg.stop_identity == pytest.approx(1.0)  # paper balance 0.001 * 1000
    assert (cfg.lambda_o, cfg.lambda_c, cfg.stop_orientation) == (0.1, 100.0, 10.0)
    z = standins.sample_latents(2, seed=1)
    assert torch.equal(z, standins.sample_latents(2, seed=1))
    small = FPBConfig(**{**cfg.__dict__, "max_iterations": 2})
    result = generate_pair(standins.generator, standins.estimator, z, small, seed=0)
    assert result.x_a.shape == result.x_b.shape == (2, 3, 32, 32)
    assert result.attributes_a.contour.shape == (2, 16, 2) and len(result.history) == 3
    assert not torch.equal(result.x_a, result.x_b)
    vec = identity_vector({"male": True, "eye_width": 0.2, "lip_colour": [0.1, 0.2, 0.3],
                           "detail_seed": 7})  # fmt: skip
    assert vec.tolist() == pytest.approx([0.2, 0.1, 0.2, 0.3, 1.0])


def test_snapshots_record_the_x_b_sequence_of_fig_2():
    z = torch.randn(2, DIM, generator=torch.Generator().manual_seed(1))
    n0 = torch.randn(2, DIM, generator=torch.Generator().manual_seed(2))
    cfg = FPBConfig(max_iterations=5, step_size=0.01, early_stop=False)
    result = generate_pair(generator, estimator, z, cfg, noise=n0, snapshot_every=2)
    assert [t for t, _ in result.snapshots] == [0, 2, 4, 5]
    torch.testing.assert_close(result.snapshots[0][1], z + n0)  # the random start
    torch.testing.assert_close(result.snapshots[-1][1], result.x_b)  # the final x_B
    with pytest.raises(ValueError, match="snapshot_every"):
        generate_pair(generator, estimator, z, cfg, noise=n0, snapshot_every=-1)


def test_standins_report_held_out_errors_and_paint_regions():
    from maskstyle.models.lrnet.standins import train_fpb_standins

    standins = train_fpb_standins(count=8, size=32, steps=2, batch_size=4, seed=0, eval_count=4)
    errors = standins.errors
    assert errors["held_out_faces"] == 4 and 0 <= errors["region_accuracy"] <= 1
    assert errors["orientation_mae_deg"] > 0 and errors["contour_l2"] > 0
    # the contour threshold is the estimator's own held-out contour error
    assert standins.config.stop_contour == pytest.approx(errors["contour_l2"])
    images, regions = standins.generator.with_regions(standins.sample_latents(2))
    assert images.shape == (2, 3, 32, 32) and regions.shape == (2, 32, 32)
    assert regions.dtype == torch.int64 and int(regions.max()) < 10
    noise = standins.initial_noise(2, seed=1)
    torch.testing.assert_close(noise, standins.initial_noise(2, seed=1))
    assert noise.shape == (2, standins.latent_mean.numel())
