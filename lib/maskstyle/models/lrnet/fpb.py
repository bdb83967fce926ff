"""The FPB pair-generation algorithm (LRNet, Zheng et al. 2020, Section 3, Eqs. 1-2, Fig. 2).

Face blending needs pairs of *different* people in the *same* pose with the *same* face
outline. FPB makes them with a generator: a latent ``Z`` gives ``x_A = G(Z)``; a noise
``n`` is added and optimised so that ``x_B = G(Z + n)`` keeps A's orientation and contour
while its identity moves as far away as possible (Eq. 1):

    loss_AB = lambda_o ||x_A^o - x_B^o||_2 + lambda_c ||x_A^c - x_B^c||_2
              - lambda_id ||x_A^id - x_B^id||_2

with orientation ``x^o`` (pitch, yaw, roll in degrees, 3), contour ``x^c`` (16 outline
landmarks in [0, 1], 16 x 2) and an identity embedding ``x^id`` (4,000-d in the paper),
all from estimators applied to the generated images. The noise follows plain gradient
descent (Eq. 2), ``n <- n - d loss_AB / d n`` (``step_size`` 1), for at most 80 iterations,
stopping early once (Section 3.2)

    ||x_A^o - x_B^o|| < 10  and  ||x_A^c - x_B^c|| < 0.01  and  ||x_A^id - x_B^id|| > 1000.

Paper values: ``lambda_o, lambda_c, lambda_id = 0.1, 100, 0.001``. The thresholds are in
the units of the paper's estimators (PRNet angles, normalised landmarks, a 4,000-d
recognition feature); stand-in estimators with other scales need their own thresholds,
which :class:`FPBConfig` takes.

The algorithm is written against an interface, not against StyleGAN2/PRNet (neither is
available here): ``generator(z) -> images`` (differentiable) and ``estimator(images) ->``
:class:`FaceAttributes`. Each sample of a batch stops on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch


class FaceAttributes(NamedTuple):
    """What the estimators read from a face: ``[B, 3]``, ``[B, 16, 2]``, ``[B, D]``."""

    orientation: torch.Tensor
    contour: torch.Tensor
    identity: torch.Tensor


Generator = Callable[[torch.Tensor], torch.Tensor]
Estimator = Callable[[torch.Tensor], FaceAttributes]


@dataclass(frozen=True)
class FPBConfig:
    """Eq. 1 weights, Eq. 2 step, the Section 3.2 iteration cap and stop thresholds."""

    lambda_o: float = 0.1
    lambda_c: float = 100.0
    lambda_id: float = 0.001
    step_size: float = 1.0
    max_iterations: int = 80
    noise_std: float = 1.0
    stop_orientation: float = 10.0
    stop_contour: float = 0.01
    stop_identity: float = 1000.0
    early_stop: bool = True

    def __post_init__(self) -> None:
        if self.max_iterations < 0:
            raise ValueError(f"max_iterations must be >= 0, got {self.max_iterations}")
        if self.step_size <= 0:
            raise ValueError(f"step_size must be > 0, got {self.step_size}")


class Distances(NamedTuple):
    """Per-sample ``||.||_2`` distances of Eq. 1: each ``[B]``."""

    orientation: torch.Tensor
    contour: torch.Tensor
    identity: torch.Tensor


def attribute_distances(a: FaceAttributes, b: FaceAttributes) -> Distances:
    """Per-sample L2 distances between two faces' orientation, contour and identity."""

    def dist(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x - y).flatten(1).norm(dim=1)

    return Distances(
        dist(a.orientation, b.orientation), dist(a.contour, b.contour), dist(a.identity, b.identity)
    )


def fpb_loss(distances: Distances, config: FPBConfig = FPBConfig()) -> torch.Tensor:
    """Eq. 1 per sample ``[B]``: ``l_o d_o + l_c d_c - l_id d_id``."""
    return (
        config.lambda_o * distances.orientation
        + config.lambda_c * distances.contour
        - config.lambda_id * distances.identity
    )


def stop_criteria(distances: Distances, config: FPBConfig = FPBConfig()) -> torch.Tensor:
    """Section 3.2's joint stop test per sample ``[B]`` (bool)."""
    return (
        (distances.orientation < config.stop_orientation)
        & (distances.contour < config.stop_contour)
        & (distances.identity > config.stop_identity)
    )


@dataclass
class FPBResult:
    """A generated pair: images, latents, per-iteration history and why each sample stopped."""

    x_a: torch.Tensor
    x_b: torch.Tensor
    z: torch.Tensor
    noise: torch.Tensor
    attributes_a: FaceAttributes
    attributes_b: FaceAttributes
    iterations: torch.Tensor  # [B] updates applied to each sample's noise
    converged: torch.Tensor  # [B] bool: met the stop criteria (vs hit the iteration cap)
    history: list[dict[str, list[float]]] = field(default_factory=list)
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)  # (t, x_B at t)


def _check_attributes(attrs: FaceAttributes, batch: int) -> None:
    if not isinstance(attrs, FaceAttributes):
        raise TypeError(
            f"the estimator must return maskstyle.models.lrnet.fpb.FaceAttributes, got "
            f"{type(attrs).__name__}"
        )
    for name, value in attrs._asdict().items():
        if value.dim() < 2 or value.shape[0] != batch:
            raise ValueError(
                f"estimated {name} must be [B, ...] with B = {batch}, got {tuple(value.shape)}"
            )


def generate_pair(
    generator: Generator,
    estimator: Estimator,
    z: torch.Tensor,
    config: FPBConfig = FPBConfig(),
    noise: torch.Tensor | None = None,
    seed: int = 0,
    snapshot_every: int = 0,
) -> FPBResult:
    """Run the FPB algorithm from latents ``z [B, ...]``: ``x_A = G(z)``, ``x_B = G(z + n)``.

    ``noise`` is the initial ``n`` (default: ``noise_std`` x standard normal from a
    generator seeded by ``seed``). Returns :class:`FPBResult`; ``history[t]`` holds the
    per-sample loss and distances before update ``t``; with ``snapshot_every > 0``,
    ``snapshots`` holds ``(t, x_B)`` every that many iterations and at the last one (the
    x_A -> x_B sequence of Fig. 2).
    """
    if snapshot_every < 0:
        raise ValueError(f"snapshot_every must be >= 0, got {snapshot_every}")
    if noise is None:
        g = torch.Generator(device="cpu").manual_seed(seed)
        noise = config.noise_std * torch.randn(z.shape, generator=g, dtype=z.dtype).to(z.device)
    if noise.shape != z.shape:
        raise ValueError(
            f"noise {tuple(noise.shape)} must have the latent's shape {tuple(z.shape)}"
        )
    batch = z.shape[0]
    with torch.no_grad():
        x_a = generator(z)
        attrs_a = estimator(x_a)
    _check_attributes(attrs_a, batch)
    noise = noise.detach().clone()
    active = torch.ones(batch, dtype=torch.bool, device=z.device)
    converged = torch.zeros_like(active)
    iterations = torch.zeros(batch, dtype=torch.long, device=z.device)
    history: list[dict[str, list[float]]] = []
    snapshots: list[tuple[int, torch.Tensor]] = []
    for t in range(config.max_iterations + 1):
        n = noise.requires_grad_(True)
        x_b = generator(z + n)
        if snapshot_every and t % snapshot_every == 0:
            snapshots.append((t, x_b.detach().clone()))
        attrs_b = estimator(x_b)
        distances = attribute_distances(attrs_a, attrs_b)
        loss = fpb_loss(distances, config)
        history.append(
            {"loss": loss.tolist(), **{k: v.tolist() for k, v in distances._asdict().items()}}
        )
        if config.early_stop:
            done = stop_criteria(distances, config) & active
            converged |= done
            active &= ~done
        if not bool(active.any()) or len(history) > config.max_iterations:
            if snapshot_every and t % snapshot_every:
                snapshots.append((t, x_b.detach().clone()))
            break
        (grad,) = torch.autograd.grad(loss.sum(), n)
        step = config.step_size * grad * active.view(-1, *[1] * (z.dim() - 1)).to(grad.dtype)
        noise = (n - step).detach()
        iterations += active.long()
    return FPBResult(
        x_a=x_a,
        x_b=x_b.detach(),
        z=z.detach(),
        noise=noise.detach(),
        attributes_a=attrs_a,
        attributes_b=FaceAttributes(*(t.detach() for t in attrs_b)),
        iterations=iterations,
        converged=converged,
        history=history,
        snapshots=snapshots,
    )
