"""Perceptual loss, optimisers, the exponential schedule and the alternating step."""

import pytest
import torch

from maskstyle.gan import (
    AlternatingGANStep,
    PerceptualLoss,
    exponential_schedule,
    linear_decay_schedule,
    rmsprop,
    ttur_pair,
)
from maskstyle.gan.step import official_genegan_d_steps


def test_perceptual_loss_matches_direct_features():
    from maskstyle.nn.vgg import VGG19Features

    vgg = VGG19Features(layers=("relu1_1", "relu2_1"), weights="random", seed=0)
    loss = PerceptualLoss({"relu1_1": 0.5, "relu2_1": 2.0}, vgg=vgg)
    x, y = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    fx, fy = vgg(x), vgg(y)
    expected = (
        0.5 * (fx["relu1_1"] - fy["relu1_1"]).abs().mean()
        + 2.0 * (fx["relu2_1"] - fy["relu2_1"]).abs().mean()
    )
    assert loss(x, y).item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss(x, x).item() == 0.0
    with pytest.raises(ValueError, match="does not return layers"):
        PerceptualLoss({"relu3_1": 1.0}, vgg=vgg)


def test_exponential_schedule_and_rmsprop():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = rmsprop([p], lr=5e-5, decay=0.8)
    assert opt.param_groups[0]["alpha"] == 0.8 and opt.param_groups[0]["momentum"] == 0
    sched = exponential_schedule(opt, gamma=0.8, every=10)
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(5e-5 * 0.8**0.5)


def test_ttur_pair_learning_rates():
    g, d = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    opt_g, opt_d = ttur_pair(g.parameters(), d.parameters(), betas=(0.0, 0.9))
    assert opt_g.param_groups[0]["lr"] == 1e-4 and opt_d.param_groups[0]["lr"] == 4e-4
    assert opt_d.param_groups[0]["betas"] == (0.0, 0.9)
    with pytest.raises(ValueError, match="kind"):
        ttur_pair(g.parameters(), d.parameters(), kind="sgd")


def _toy():
    torch.manual_seed(0)
    g, d = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    calls = {"d": 0, "g": 0}

    def d_loss(batch):
        calls["d"] += 1
        with torch.no_grad():
            fake = g(batch)
        loss = d(fake).mean() - d(batch).mean()
        return loss, {"d": loss}

    def g_loss(batch):
        calls["g"] += 1
        loss = -d(g(batch)).mean()
        return loss, {"g": loss}

    return g, d, d_loss, g_loss, calls


def test_alternating_step_counts_clips_and_freezes_d():
    g, d, d_loss, g_loss, calls = _toy()
    step = AlternatingGANStep(
        d_loss=d_loss,
        g_loss=g_loss,
        d_optimizer=torch.optim.SGD(d.parameters(), lr=1.0),
        g_optimizer=torch.optim.SGD(g.parameters(), lr=0.1),
        discriminators=[d],
        n_critic=3,
        clip=0.01,
        g_every=2,
    )
    d_before = [p.detach().clone() for p in d.parameters()]
    out = step(torch.rand(4, 2), 0)
    assert calls == {"d": 3, "g": 1} and set(out) == {"d", "g"}
    assert all(p.abs().max() <= 0.01 for p in d.parameters())
    assert not all(torch.equal(a, b) for a, b in zip(d_before, d.parameters()))
    # D's grads are not filled by the G update (it is frozen), and it is unfrozen after
    assert all(p.requires_grad for p in d.parameters())
    out = step(torch.rand(4, 2), 1)  # odd step: no G update
    assert calls == {"d": 6, "g": 1} and set(out) == {"d"}


def test_official_genegan_schedule():
    assert [official_genegan_d_steps(t) for t in (0, 1, 499, 500, 501)] == [100, 1, 1, 100, 1]
    g, d, d_loss, g_loss, calls = _toy()
    step = AlternatingGANStep(
        d_loss=d_loss,
        g_loss=g_loss,
        d_optimizer=torch.optim.SGD(d.parameters(), lr=0.1),
        g_optimizer=torch.optim.SGD(g.parameters(), lr=0.1),
        discriminators=[d],
        d_steps=lambda t: official_genegan_d_steps(t, every=3, burst=4),
    )
    for t in range(4):
        step(torch.rand(2, 2), t)
    assert calls == {"d": 4 + 1 + 1 + 4, "g": 4}


def test_alternating_step_with_trainer(tmp_path):
    from maskstyle.train import Trainer

    g, d, d_loss, g_loss, _ = _toy()
    opt_d, opt_g = (
        torch.optim.SGD(d.parameters(), lr=0.1),
        torch.optim.SGD(g.parameters(), lr=0.1),
    )
    step = AlternatingGANStep(
        d_loss=d_loss, g_loss=g_loss, d_optimizer=opt_d, g_optimizer=opt_g, discriminators=[d]
    )
    data = iter(lambda: torch.ones(2, 2), None)
    history = Trainer(
        models={"g": g, "d": d},
        optimizers={"g": opt_g, "d": opt_d},
        step_fn=step,
        data=data,
        total_steps=4,
        out_dir=tmp_path,
        log_every=1,
        progress=False,
    ).run()
    assert set(history.terms) == {"d", "g"} and len(history.rows) == 4
    with pytest.raises(ValueError, match="n_critic"):
        AlternatingGANStep(
            d_loss=d_loss,
            g_loss=g_loss,
            d_optimizer=opt_d,
            g_optimizer=opt_g,
            discriminators=[d],
            n_critic=0,
        )


def test_linear_decay_schedule_closed_form():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = linear_decay_schedule(opt, start=4, end=8)
    seen = []
    for _ in range(10):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    # lr(t) = 1 for t <= 4, (8 - t) / 4 between, 0 from t = 8 on
    assert seen == pytest.approx([1, 1, 1, 1, 1, 0.75, 0.5, 0.25, 0, 0])
    with pytest.raises(ValueError, match="start < end"):
        linear_decay_schedule(opt, start=3, end=3)
