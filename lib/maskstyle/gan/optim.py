"""Optimisers for GAN training.

- :func:`adam` / :func:`rmsprop` - builders that name the GAN papers' settings (DCGAN's
  Adam betas ``(0.5, 0.999)``; GeneGAN's RMSProp with decay 0.8, momentum 0);
- :func:`ttur_pair` - the two time-scale update rule (Heusel et al. 2017): separate
  optimisers for G and D, D with the larger learning rate (SPADE: ``lr_G = 1e-4``,
  ``lr_D = 4e-4``, betas ``(0, 0.9)``; SEAN's paper: betas ``(0.5, 0.999)``);
- :func:`exponential_schedule` - GeneGAN's learning rate
  ``lr(t) = lr_0 * gamma^(t / T)`` (official code: ``5e-5 * 0.8^(t / 10000)``), continuous
  in ``t`` (TensorFlow's ``exponential_decay`` without ``staircase``).
- :func:`linear_decay_schedule` - constant, then linearly to 0 (pix2pix / CycleGAN)

TensorFlow's RMSProp ``decay`` is torch's ``alpha`` (the running average's weight of the
old squared gradient); TF adds ``epsilon = 1e-10`` inside the square root, torch 1e-8
outside it - we keep torch's.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR

Params = Iterable[torch.nn.Parameter]


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


def adam(params: Params, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
         weight_decay: float = 0.0) -> torch.optim.Adam:  # fmt: skip
    """Adam with the GAN default betas ``(0.5, 0.999)`` (DCGAN)."""
    _positive("lr", lr)
    return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)


def rmsprop(params: Params, lr: float = 5e-5, decay: float = 0.8, momentum: float = 0.0,
            weight_decay: float = 0.0) -> torch.optim.RMSprop:  # fmt: skip
    """RMSProp as in GeneGAN (Sec. 3: lr 5e-5, momentum 0; code: decay 0.8)."""
    _positive("lr", lr)
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    return torch.optim.RMSprop(params, lr=lr, alpha=decay, momentum=momentum,
                               weight_decay=weight_decay)  # fmt: skip


def ttur_pair(
    g_params: Params,
    d_params: Params,
    lr_g: float = 1e-4,
    lr_d: float = 4e-4,
    kind: str = "adam",
    **kwargs,
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """``(opt_G, opt_D)`` with their own learning rates (TTUR); ``kind`` is ``"adam"`` or
    ``"rmsprop"``, ``kwargs`` go to both builders (e.g. ``betas=(0.0, 0.9)``)."""
    builders = {"adam": adam, "rmsprop": rmsprop}
    if kind not in builders:
        raise ValueError(f"kind must be one of {tuple(builders)}, got {kind!r}")
    build = builders[kind]
    return build(g_params, lr=lr_g, **kwargs), build(d_params, lr=lr_d, **kwargs)


def exponential_schedule(
    optimizer: torch.optim.Optimizer, gamma: float = 0.8, every: int = 10000
) -> LambdaLR:
    """``lr(t) = lr_0 * gamma^(t / every)`` (GeneGAN's official schedule: 0.8, 10000).

    Step it once per training iteration (the :class:`~maskstyle.train.Trainer` does when it
    is passed in ``schedulers``).
    """
    _positive("gamma", gamma)
    if every < 1:
        raise ValueError(f"every must be a positive number of steps, got {every}")
    return LambdaLR(optimizer, lambda t: gamma ** (t / every))


def linear_decay_schedule(optimizer: torch.optim.Optimizer, start: int, end: int) -> LambdaLR:
    """``lr(t) = lr_0`` for ``t < start``, then linearly down to 0 at ``t = end`` (and 0
    after): the schedule of pix2pix / CycleGAN (Isola et al. 2017; Zhu et al. 2017, Sec. 7),
    which lets an oscillating GAN settle before the run ends.
    """
    if not 0 <= start < end:
        raise ValueError(f"need 0 <= start < end steps for a linear decay, got {start}, {end}")
    return LambdaLR(optimizer, lambda t: min(1.0, max(0.0, (end - t) / (end - start))))


__all__ = ["adam", "exponential_schedule", "linear_decay_schedule", "rmsprop", "ttur_pair"]
