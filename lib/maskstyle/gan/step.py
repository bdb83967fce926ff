"""One GAN training update that alternates discriminator and generator steps.

Algorithm (Goodfellow et al. 2014, Alg. 1; WGAN's Alg. 1 with ``n_critic``):

    for j in 1 .. n_D(t):                  # n_D(t) = n_critic, or d_steps(t) if given
        theta_D <- theta_D - lr_D * grad L_D(batch_j)       (G's outputs detached)
        if clip: theta_D <- clamp(theta_D, -c, c)           (WGAN weight clipping)
    if t % g_every == 0:
        theta_G <- theta_G - lr_G * grad L_G(batch)         (D frozen: requires_grad off)

``batch_1`` is the step's batch; further critic batches come from ``critic_data`` when it
is given (WGAN and GeneGAN's code draw a new batch per critic step), else the step's batch
is reused. :class:`AlternatingGANStep` is a ``step_fn`` for :class:`maskstyle.train.Trainer`,
so checkpoints, resume, the NaN guard and progress lines come from there; it returns the
last D step's terms and the G step's terms (each loss function names its own terms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import torch
from torch import nn

from maskstyle.gan.losses import clip_weights

LossFn = Callable[[Any], tuple[torch.Tensor, Mapping[str, torch.Tensor]]]


def _set_requires_grad(modules: Iterable[nn.Module], flag: bool) -> None:
    for module in modules:
        for p in module.parameters():
            p.requires_grad_(flag)


class AlternatingGANStep:
    """``step(batch, t) -> {term: value}``: ``n_D(t)`` discriminator updates, then one
    generator update every ``g_every`` steps.

    ``d_loss(batch)`` and ``g_loss(batch)`` return ``(loss_to_minimise, {name: term})``.
    ``discriminators`` are frozen during the G update (so G's backward does not fill D's
    gradients). ``d_steps(t)`` overrides ``n_critic`` per step (GeneGAN's code: 100 critic
    steps when ``t % 500 == 0``, else 1). ``clip`` is WGAN's weight-clipping limit.
    ``grad_clip`` clips the global gradient norm of each update (off by default).
    """

    def __init__(
        self,
        *,
        d_loss: LossFn,
        g_loss: LossFn,
        d_optimizer: torch.optim.Optimizer,
        g_optimizer: torch.optim.Optimizer,
        discriminators: Iterable[nn.Module],
        n_critic: int = 1,
        d_steps: Callable[[int], int] | None = None,
        g_every: int = 1,
        clip: float | None = None,
        grad_clip: float | None = None,
        critic_data: Iterable | None = None,
    ) -> None:
        for name, value in (("n_critic", n_critic), ("g_every", g_every)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be positive or None, got {clip}")
        self.d_loss, self.g_loss = d_loss, g_loss
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.discriminators = list(discriminators)
        if not self.discriminators:
            raise ValueError("pass the discriminator module(s) so they can be frozen for G")
        self.n_critic, self.d_steps, self.g_every = n_critic, d_steps, g_every
        self.clip, self.grad_clip = clip, grad_clip
        self._critic_iter: Iterator | None = None if critic_data is None else iter(critic_data)

    def critic_steps(self, step: int) -> int:
        """``n_D(t)``: how many D updates step ``t`` makes."""
        n = self.n_critic if self.d_steps is None else int(self.d_steps(step))
        if n < 0:
            raise ValueError(f"d_steps({step}) returned {n}; it must be >= 0")
        return n

    def _update(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip is not None:
            params = [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, self.grad_clip)
        optimizer.step()

    def __call__(self, batch: Any, step: int) -> dict[str, torch.Tensor]:
        terms: dict[str, torch.Tensor] = {}
        _set_requires_grad(self.discriminators, True)
        for j in range(self.critic_steps(step)):
            d_batch = batch if j == 0 or self._critic_iter is None else next(self._critic_iter)
            loss, d_terms = self.d_loss(d_batch)
            self._update(self.d_optimizer, loss)
            if self.clip is not None:
                for d in self.discriminators:
                    clip_weights(d, self.clip)  # WGAN: theta_D <- clamp(theta_D, -c, c)
            terms.update({k: v.detach() for k, v in d_terms.items()})
        if step % self.g_every == 0:
            _set_requires_grad(self.discriminators, False)
            try:
                loss, g_terms = self.g_loss(batch)
                self._update(self.g_optimizer, loss)
            finally:
                _set_requires_grad(self.discriminators, True)
            terms.update({k: v.detach() for k, v in g_terms.items()})
        return terms


def official_genegan_d_steps(step: int, every: int = 500, burst: int = 100) -> int:
    """GeneGAN's critic schedule (official ``train.py``): ``burst`` D steps when
    ``step % every == 0``, else 1."""
    return burst if step % every == 0 else 1


__all__ = ["AlternatingGANStep", "official_genegan_d_steps"]
