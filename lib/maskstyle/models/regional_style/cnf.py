"""A continuous normalizing flow (CNF) over style codes and style fine-tuning in its latent
space (harmonized regional style transfer, Section 3.5, Eqs. 7-8; FFJORD / StyleFlow).

A learned vector field ``f(s, l)`` (ConcatSquash MLP as in FFJORD, PointFlow and StyleFlow)
defines an invertible map between a style code ``s`` and a Gaussian latent ``z``:

    z_t  = s(l_0) + int_{l_0}^{l_1} f(s(l), l) dl,     s(l_0) = s_t          (Eq. 7)
    s'_t = z'(l_1) + int_{l_1}^{l_0} f(z'(l), l) dl,    z'(l_1) = z'_t        (Eq. 8)

with ``z'_t = z_t + eta d`` for a random unit direction ``d`` (fine-tuning step ``eta``).
**Our reading:** Eq. 8 writes ``z'(l_1) = z_t``; the reverse ODE must start from the moved
code ``z'_t`` (with ``z_t`` it would return ``s_t`` unchanged), so we start it there.
``l_0 = 0``, ``l_1 = T`` (learnable in FFJORD; fixed here, default 1).

Training is maximum likelihood by the instantaneous change of variables (Chen et al. 2018,
Thm. 1): ``d log p(s(l)) / dl = -tr(df/ds)``, so

    log p(s) = log N(z; 0, I) + int_{l_0}^{l_1} tr(df/ds(s(l), l)) dl,

the trace exact (small ``dim``) or by Hutchinson's estimator ``E_e[e^T (df/ds) e]`` with
Rademacher ``e`` (FFJORD). Integration uses ``torchdiffeq.odeint`` (default dopri5).

**Data whitening (our addition).** Style codes spread far less than ``N(0, I)`` (per
dimension about 0.15 in the cpu run) and along few directions, so a short fit leaves the
flow near the identity and its latent is the style space again. As a fixed first layer of
the flow (Glow's data-dependent initialisation, here of an invertible linear map),
:meth:`StyleCNF.set_whitening` stores the codes' mean ``mu`` and covariance
``Sigma = V diag(lambda) V^T`` (eigenvalues floored at ``min_std^2``), and the flow runs on
the whitened code:

    z = phi(Sigma^{-1/2} (s - mu)),    s = Sigma^{1/2} phi^{-1}(z) + mu,
    log p(s) = log p_phi(Sigma^{-1/2} (s - mu)) - 1/2 sum_i log lambda_i

(change of variables of the linear map). :func:`~maskstyle.models.regional_style.train.
train_cnf` sets it from the training codes; the identity until then. A step ``eta d`` in
``z`` then moves the code by ``Sigma^{1/2} eta d``, along the directions the codes vary in
and in proportion to their spread; the same step in style space ignores both (Fig. 5).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ConcatSquashLinear(nn.Module):
    """``y = W x * sigmoid(W_g l + b_g) + W_b l`` (FFJORD's ConcatSquash layer)."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.layer = nn.Linear(d_in, d_out)
        self.gate = nn.Linear(1, d_out)
        self.bias = nn.Linear(1, d_out, bias=False)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        t = t.reshape(1, 1).to(x)
        return self.layer(x) * torch.sigmoid(self.gate(t)) + self.bias(t)


class StyleODEFunc(nn.Module):
    """The vector field ``f(s, l)``: ConcatSquash layers with tanh between them."""

    def __init__(self, dim: int, hidden: int = 256, layers: int = 2) -> None:
        super().__init__()
        widths = [dim] + [hidden] * layers + [dim]
        self.layers = nn.ModuleList(
            ConcatSquashLinear(a, b) for a, b in zip(widths[:-1], widths[1:])
        )

    def forward(self, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        h = s
        for i, layer in enumerate(self.layers):
            h = layer(t, h)
            if i < len(self.layers) - 1:
                h = torch.tanh(h)
        return h


def _trace_exact(f: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """``tr(df/ds)`` per sample by one vjp per dimension (for small ``dim``)."""
    cols = []
    for i in range(s.shape[1]):
        (g,) = torch.autograd.grad(f[:, i].sum(), s, create_graph=True)
        cols.append(g[:, i])
    return torch.stack(cols, 1).sum(1)


def _trace_hutchinson(f: torch.Tensor, s: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """Hutchinson's ``e^T (df/ds) e`` per sample (FFJORD)."""
    (g,) = torch.autograd.grad(f, s, e, create_graph=True)
    return (g * e).sum(1)


class _Augmented(nn.Module):
    """Dynamics of ``(s, Delta)`` with ``dDelta/dl = tr(df/ds)``."""

    def __init__(self, func: nn.Module, exact: bool, e: torch.Tensor | None) -> None:
        super().__init__()
        self.func, self.exact, self.e = func, exact, e

    def forward(self, t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        s = state[0]
        with torch.enable_grad():
            if not s.requires_grad:
                s = s.requires_grad_(True)
            f = self.func(t, s)
            tr = _trace_exact(f, s) if self.exact else _trace_hutchinson(f, s, self.e)
        return f, tr


class StyleCNF(nn.Module):
    """CNF between style codes ``[B, dim]`` and ``z ~ N(0, I)`` (Eqs. 7-8).

    ``func`` replaces the default :class:`StyleODEFunc` (any ``f(t, s)`` module).
    """

    def __init__(
        self,
        dim: int,
        hidden: int = 256,
        layers: int = 2,
        T: float = 1.0,
        method: str = "dopri5",
        rtol: float = 1e-5,
        atol: float = 1e-5,
        func: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if not T > 0:
            raise ValueError(f"T (the integration time l_1 - l_0) must be positive, got {T}")
        self.dim, self.T = dim, float(T)
        self.method, self.rtol, self.atol = method, rtol, atol
        self.func = StyleODEFunc(dim, hidden, layers) if func is None else func
        self.register_buffer("shift", torch.zeros(dim))
        self.register_buffer("whiten", torch.eye(dim))  # Sigma^{-1/2}
        self.register_buffer("colour", torch.eye(dim))  # Sigma^{1/2}
        self.register_buffer("log_det_whiten", torch.zeros(()))  # -1/2 sum log lambda

    @torch.no_grad()
    def set_whitening(self, codes: torch.Tensor, min_std: float = 1e-3) -> None:
        """Store the mean and the (symmetric) whitening and colouring matrices of the
        covariance of ``codes`` ``[N, dim]`` (N >= 2) as the flow's fixed first layer
        (module docstring); eigenvalues below ``min_std**2`` are raised to it, so a
        degenerate direction stays invertible."""
        codes = self._check(codes, "codes")
        if len(codes) < 2:
            raise ValueError(f"set_whitening needs at least 2 codes, got {len(codes)}")
        x = codes.double()
        centred = x - x.mean(0)
        cov = centred.T @ centred / (len(x) - 1)
        lam, v = torch.linalg.eigh(cov)
        lam = lam.clamp_min(min_std**2)
        self.shift.copy_(x.mean(0))
        self.whiten.copy_((v * lam.rsqrt()) @ v.T)
        self.colour.copy_((v * lam.sqrt()) @ v.T)
        self.log_det_whiten.copy_(-0.5 * lam.log().sum())

    def _whiten(self, s: torch.Tensor) -> torch.Tensor:
        return (s - self.shift) @ self.whiten.T

    def _check(self, x: torch.Tensor, name: str) -> torch.Tensor:
        if x.dim() == 3:  # a group's style rows [B, n, D] -> [B, n*D]
            x = x.flatten(1)
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"{name} must be [B, {self.dim}] (or rows that flatten to it), got {tuple(x.shape)}"
            )
        return x

    def _odeint(self, func, y0, t0: float, t1: float):
        from torchdiffeq import odeint

        ref = y0[0] if isinstance(y0, tuple) else y0
        times = torch.tensor([t0, t1], dtype=ref.dtype, device=ref.device)
        out = odeint(func, y0, times, method=self.method, rtol=self.rtol, atol=self.atol)
        return tuple(o[-1] for o in out) if isinstance(out, tuple) else out[-1]

    def encode(self, s: torch.Tensor) -> torch.Tensor:
        """Style code -> latent: ``z_t = s_t + int_{l_0}^{l_1} f dl`` (Eq. 7)."""
        s = self._whiten(self._check(s, "s"))
        # Eq. 7: integrate f forward from l_0 = 0 to l_1 = T
        return self._odeint(self.func, s, 0.0, self.T)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent -> style code: the reverse-time ODE ``s' = z' + int_{l_1}^{l_0} f dl`` (Eq. 8)."""
        z = self._check(z, "z")
        # Eq. 8: integrate f backward from l_1 = T to l_0 = 0
        return self._odeint(self.func, z, self.T, 0.0) @ self.colour.T + self.shift

    def log_prob(self, s: torch.Tensor, exact: bool = False) -> torch.Tensor:
        """``log p(s) = log N(z; 0, I) + int tr(df/ds) dl - 1/2 sum log lambda`` per sample
        ``[B]`` (the last term: the whitening's log-determinant)."""
        s = self._whiten(self._check(s, "s"))
        e = None if exact else torch.randint(0, 2, s.shape, device=s.device).to(s) * 2 - 1
        aug = _Augmented(self.func, exact, e)
        z, delta = self._odeint(aug, (s, s.new_zeros(s.shape[0])), 0.0, self.T)
        log_pz = -0.5 * (z.square().sum(1) + self.dim * math.log(2 * math.pi))
        return log_pz + delta + self.log_det_whiten

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` style codes decoded from ``z ~ N(0, I)``."""
        p = next(self.parameters())
        return self.decode(torch.randn(n, self.dim, generator=generator, device=p.device))

    def fine_tune(self, s: torch.Tensor, direction: torch.Tensor, eta: float) -> torch.Tensor:
        """Eqs. 7-8: ``decode(encode(s) + eta d)`` with ``d`` normalised to unit length."""
        d = self._check(direction, "direction")
        d = d / d.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return self.decode(self.encode(s) + eta * d)


def fine_tune_style_space(s: torch.Tensor, direction: torch.Tensor, eta: float) -> torch.Tensor:
    """The naive alternative of Fig. 5: ``s + eta d`` directly in style space (unit ``d``)."""
    shape = s.shape
    s, d = s.flatten(1), direction.flatten(1)
    if s.shape != d.shape:
        raise ValueError(f"direction {tuple(direction.shape)} must match s {tuple(shape)}")
    d = d / d.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return (s + eta * d).view(shape)


def random_direction(batch: int, dim: int, generator: torch.Generator | None = None):
    """Unit vectors ``[batch, dim]`` uniform on the sphere."""
    d = torch.randn(batch, dim, generator=generator)
    return d / d.norm(dim=1, keepdim=True)


__all__ = [
    "ConcatSquashLinear",
    "StyleCNF",
    "StyleODEFunc",
    "fine_tune_style_space",
    "random_direction",
]
