"""Adversarial losses and GAN feature matching.

``D`` outputs raw scores (logits / critic values) ``d(x)``, of any shape (a PatchGAN's
``[B, 1, h, w]`` map or a ``[B, 1]`` score); every expectation is a mean over all elements.
``sigma`` is the logistic sigmoid, ``softplus(t) = log(1 + e^t)`` so ``-log sigma(t) =
softplus(-t)`` and ``-log(1 - sigma(t)) = softplus(t)`` (computed stably).

=================  ===========================================  ================================
kind               discriminator / critic loss ``L_D``          generator loss ``L_G``
=================  ===========================================  ================================
``standard``       ``-E log sigma(d(x)) - E log(1 - sigma(d(g)))``  ``E log(1 - sigma(d(g)))``
                   (Goodfellow et al. 2014, Eq. 1)              (minimax)
``nonsaturating``  same as standard                             ``-E log sigma(d(g))``
``lsgan``          ``E (d(x) - 1)^2 + E d(g)^2``                ``E (d(g) - 1)^2`` (Mao et al.,
                                                                Eq. 2 with a=0, b=c=1, no 1/2)
``wgan``           ``E d(g) - E d(x)`` (Arjovsky et al., Eq. 3; ``-E d(g)``
                   with :func:`clip_weights` after each step)
``hinge``          ``E relu(1 - d(x)) + E relu(1 + d(g))``      ``-E d(g)`` (Lim & Ye; SAGAN,
                                                                SPADE)
=================  ===========================================  ================================

WGAN-GP (Gulrajani et al. 2017, Eq. 3): the critic adds
``lambda * E_{x^ = eps x + (1 - eps) g} (||grad_{x^} d(x^)||_2 - 1)^2``
(:func:`gradient_penalty`). GAN feature matching (pix2pixHD Eq. 4, SPADE):
``sum_k sum_i 1/N_i || D_k^(i)(x) - D_k^(i)(g) ||_1`` over discriminators ``k`` and their
intermediate layers ``i`` (:func:`feature_matching_loss`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

GAN_LOSSES = ("standard", "nonsaturating", "lsgan", "wgan", "hinge")


def _check_kind(kind: str) -> None:
    if kind not in GAN_LOSSES:
        raise ValueError(f"unknown GAN loss {kind!r}; choose one of {GAN_LOSSES}")


def _as_scores(value: torch.Tensor | Sequence[torch.Tensor], name: str) -> list[torch.Tensor]:
    """One score tensor, or a list of them (one per discriminator of a multiscale D)."""
    scores = [value] if isinstance(value, torch.Tensor) else list(value)
    if not scores or not all(isinstance(s, torch.Tensor) for s in scores):
        raise TypeError(f"{name} must be a tensor of D scores or a list of them")
    return scores


def discriminator_loss(
    real: torch.Tensor | Sequence[torch.Tensor],
    fake: torch.Tensor | Sequence[torch.Tensor],
    kind: str = "nonsaturating",
) -> torch.Tensor:
    """``L_D`` of the table above from D's scores on real and fake images.

    Lists (multiscale D) are summed over discriminators. ``fake`` should come from
    detached generator outputs.
    """
    _check_kind(kind)
    reals, fakes = _as_scores(real, "real"), _as_scores(fake, "fake")
    if len(reals) != len(fakes):
        raise ValueError(f"{len(reals)} real score maps but {len(fakes)} fake ones")
    total = reals[0].new_zeros(())
    for r, f in zip(reals, fakes):
        if kind in ("standard", "nonsaturating"):
            # -E log sigma(d(x)) - E log(1 - sigma(d(g)))
            total = total + F.softplus(-r).mean() + F.softplus(f).mean()
        elif kind == "lsgan":
            # E (d(x) - 1)^2 + E d(g)^2
            total = total + (r - 1).square().mean() + f.square().mean()
        elif kind == "wgan":
            # E d(g) - E d(x)
            total = total + f.mean() - r.mean()
        else:  # hinge
            # E relu(1 - d(x)) + E relu(1 + d(g))
            total = total + F.relu(1 - r).mean() + F.relu(1 + f).mean()
    return total


def generator_loss(
    fake: torch.Tensor | Sequence[torch.Tensor], kind: str = "nonsaturating"
) -> torch.Tensor:
    """``L_G`` of the table above from D's scores on generated images (summed over a list)."""
    _check_kind(kind)
    total = None
    for f in _as_scores(fake, "fake"):
        if kind == "standard":
            term = -F.softplus(f).mean()  # E log(1 - sigma(d(g))) = -E softplus(d(g))
        elif kind == "nonsaturating":
            term = F.softplus(-f).mean()  # -E log sigma(d(g))
        elif kind == "lsgan":
            term = (f - 1).square().mean()  # E (d(g) - 1)^2
        else:  # wgan, hinge
            term = -f.mean()  # -E d(g)
        total = term if total is None else total + term
    return total


@torch.no_grad()
def clip_weights(module: nn.Module, limit: float = 0.01) -> None:
    """WGAN's Lipschitz constraint: clamp every parameter of the critic to ``[-c, c]``
    in place (Arjovsky et al., Algorithm 1, line 7; GeneGAN's code uses ``c = 0.01``)."""
    if not limit > 0:
        raise ValueError(f"the clipping limit must be positive, got {limit}")
    for p in module.parameters():
        p.clamp_(-limit, limit)


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: float = 10.0,
    eps: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017, Eq. 3):
    ``lambda * E (||grad_{x^} D(x^)||_2 - 1)^2`` with ``x^ = eps x + (1 - eps) g``.

    ``eps`` is ``[B]`` (or broadcastable to ``[B, 1, 1, 1]``), uniform on ``[0, 1]`` per
    sample unless given. The graph is kept (``create_graph``) so the penalty trains D.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape"
        )
    batch = real.shape[0]
    if eps is None:
        eps = torch.rand(batch, generator=generator, device=real.device, dtype=real.dtype)
    eps = eps.reshape(batch, *([1] * (real.dim() - 1))).to(real)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = _as_scores(critic(mixed), "critic output")
    (grad,) = torch.autograd.grad(sum(s.sum() for s in scores), mixed, create_graph=True)
    norms = grad.reshape(batch, -1).norm(2, dim=1)  # ||grad_{x^} D(x^)||_2 per sample
    return weight * (norms - 1).square().mean()


def feature_matching_loss(
    real_features: Sequence[Sequence[torch.Tensor]] | Sequence[torch.Tensor],
    fake_features: Sequence[Sequence[torch.Tensor]] | Sequence[torch.Tensor],
) -> torch.Tensor:
    """GAN feature matching (pix2pixHD Eq. 4): ``sum_k sum_i mean |D_k^i(x) - D_k^i(g)|``.

    Each argument is a list of intermediate feature maps of one D, or a list of such lists
    (one per scale of a multiscale D). Real features are detached (they are targets).
    pix2pixHD/SPADE also divide by the number of discriminators; multiply by ``1 / K`` if
    you want that.
    """
    nested_r = [real_features] if isinstance(real_features[0], torch.Tensor) else real_features
    nested_f = [fake_features] if isinstance(fake_features[0], torch.Tensor) else fake_features
    if len(nested_r) != len(nested_f):
        raise ValueError(f"{len(nested_r)} real feature lists but {len(nested_f)} fake ones")
    total = nested_f[0][0].new_zeros(())
    for reals, fakes in zip(nested_r, nested_f):
        if len(reals) != len(fakes):
            raise ValueError(f"{len(reals)} real feature maps but {len(fakes)} fake ones")
        for r, f in zip(reals, fakes):
            if r.shape != f.shape:
                raise ValueError(f"feature shapes differ: {tuple(r.shape)} vs {tuple(f.shape)}")
            total = total + (r.detach() - f).abs().mean()
    return total


__all__ = [
    "GAN_LOSSES",
    "clip_weights",
    "discriminator_loss",
    "feature_matching_loss",
    "generator_loss",
    "gradient_penalty",
]
