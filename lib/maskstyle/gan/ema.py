"""An exponential moving average of a generator's weights, for evaluation and inference.

GAN training oscillates: the generator's weights orbit a good solution rather than settle
on it, and the last (or any one) step's weights carry that step's oscillation - in the
outputs, faint or missing edits and grain that change from one evaluation to the next.
Averaging the weights over recent steps damps the orbit (Yazici et al. 2019, "The unusual
effectiveness of averaging in GAN training"); Progressive GAN and StyleGAN evaluate only
the averaged generator (``G_ema``, ``ema_kimg = 10`` in StyleGAN2-ADA):

.. math::

    \\theta^{\\mathrm{EMA}}_0 = \\theta_0, \\qquad
    \\theta^{\\mathrm{EMA}}_t = \\beta\\,\\theta^{\\mathrm{EMA}}_{t-1} + (1 - \\beta)\\,\\theta_t

A run's first weights are random: with a fixed ``beta`` they keep a share ``beta^t`` of
the average (0.995: 29% after 250 steps). ``warmup=True`` (the default) uses
``beta_t = min(beta, (1 + t) / (10 + t))`` instead, so the average covers about the last
tenth of the steps so far until ``beta`` is reached (the ramp of Tarvainen & Valpola 2017's
mean teacher; StyleGAN2-ADA's ``ema_rampup`` does the same in images).

The averaged copy never trains; it is updated after each optimiser step. Buffers (batch
norm's running statistics) are copied from the trained model, as StyleGAN does. With
``beta`` the half-life is ``ln 2 / -ln beta`` steps (0.995: 138 steps, 0.999: 693).

This is :class:`torch.optim.swa_utils.AveragedModel`; the function here gives it the
(warmed-up) EMA update, the GAN convention (buffers copied, not averaged) and checks ``beta``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def ema_decay(beta: float, t: int, warmup: bool = True) -> float:
    """The decay of update ``t`` (1, 2, ...): ``beta``, or ``min(beta, (1 + t) / (10 + t))``."""
    return min(beta, (1 + t) / (10 + t)) if warmup else beta


def weight_ema(model: nn.Module, beta: float, warmup: bool = True) -> AveragedModel:
    """An averaged copy of ``model`` (``.module`` is the copy); call
    ``ema.update_parameters(model)`` after every optimiser step. The first call copies the
    weights (``theta_0``), later ones apply the update of the module docstring."""
    if not 0.0 < beta < 1.0:
        raise ValueError(
            f"the EMA decay beta must lie in (0, 1), got {beta}: 0.995 averages over about "
            "the last 200 steps, 0.999 over about 1000 (use no EMA for beta = 0)")

    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], count) -> None:
        decay = ema_decay(beta, int(count), warmup)  # count: updates before this one (>= 1)
        torch._foreach_lerp_(averaged, current, 1.0 - decay)

    ema = AveragedModel(model, multi_avg_fn=update, use_buffers=False)
    ema.requires_grad_(False)
    return ema


def half_life(beta: float) -> float:
    """Steps after which a weight's share of the average has halved: ``ln 2 / -ln beta``."""
    return math.log(2) / -math.log(beta)


__all__ = ["ema_decay", "half_life", "weight_ema"]
