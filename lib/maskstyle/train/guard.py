"""A NaN/inf guard for loss terms.

GAN training (LOMIT, GeneGAN, SEAN) can blow up: one step with a learning rate too high or
a division by a vanishing std turns a loss into ``nan`` or ``inf``, and every later step
trains on garbage. :func:`check_finite` stops the run at the first such step and names the
step and every term that went non-finite, with its value, so the last good checkpoint can be
resumed with a fix. The :class:`~maskstyle.train.trainer.Trainer` calls it on every step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch


class NonFiniteLossError(FloatingPointError):
    """A loss term became ``nan`` or ``inf``; ``.step`` and ``.terms`` (name -> value) say where."""

    def __init__(self, step: int, terms: dict[str, float]):
        self.step = step
        self.terms = dict(terms)
        listed = ", ".join(f"{name!r}={value}" for name, value in self.terms.items())
        super().__init__(
            f"non-finite loss at step {step}: {listed}. Resume from the last checkpoint with a "
            "lower learning rate, gradient clipping, or a larger eps, and check the inputs for "
            "NaN."
        )


def loss_value(name: str, value: torch.Tensor | float | int) -> float:
    """One loss term as a Python float; a tensor must hold exactly one element."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"loss {name!r} must be a scalar, got a tensor of shape {tuple(value.shape)}; "
                "reduce it (e.g. .mean()) before returning it"
            )
        return float(value.detach().item())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"loss {name!r} must be a tensor or a number, got {type(value).__name__}"
        )
    return float(value)


def check_finite(losses: Mapping[str, torch.Tensor | float], step: int) -> dict[str, float]:
    """Return ``losses`` as floats; raise :class:`NonFiniteLossError` if any is nan/inf."""
    if not isinstance(losses, Mapping):
        raise TypeError(
            f"losses must be a dict of name -> loss, got {type(losses).__name__}; return e.g. "
            "{'rec': rec_loss, 'adv': adv_loss} from the step function"
        )
    values = {str(name): loss_value(str(name), value) for name, value in losses.items()}
    bad = {name: value for name, value in values.items() if not math.isfinite(value)}
    if bad:
        raise NonFiniteLossError(step, bad)
    return values
