"""VGG perceptual loss (Johnson et al. 2016, Eq. 2; pix2pixHD/SPADE's ``VGGLoss``):

    L_perc(x, y) = sum_l w_l * 1/(C_l H_l W_l) || phi_l(x) - phi_l(y) ||_p^p,   p in {1, 2}

with ``phi_l`` the VGG19 activation at layer ``l`` (:class:`maskstyle.nn.vgg.VGG19Features`,
frozen). SPADE uses L1 (``p = 1``) at relu1_1 .. relu5_1 with weights 1/32, 1/16, 1/8, 1/4,
1 (:data:`SPADE_LAYER_WEIGHTS`); Johnson et al. use squared L2 at one layer. The target's
features are detached.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

SPADE_LAYER_WEIGHTS: dict[str, float] = {
    "relu1_1": 1 / 32,
    "relu2_1": 1 / 16,
    "relu3_1": 1 / 8,
    "relu4_1": 1 / 4,
    "relu5_1": 1.0,
}


class PerceptualLoss(nn.Module):
    """``sum_l w_l mean |phi_l(x) - phi_l(y)|^p`` on a frozen VGG19.

    ``vgg`` may be passed (shared with another loss); otherwise one is built from
    ``weights`` (``"imagenet"``, ``"random"`` or a path) and ``seed``. Inputs are RGB in
    ``[0, 1]``.
    """

    def __init__(
        self,
        layer_weights: Mapping[str, float] | None = None,
        norm: str = "l1",
        vgg: nn.Module | None = None,
        weights: str = "imagenet",
        seed: int = 0,
    ) -> None:
        super().__init__()
        if norm not in ("l1", "l2"):
            raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
        self.layer_weights = dict(layer_weights or SPADE_LAYER_WEIGHTS)
        if not self.layer_weights:
            raise ValueError("layer_weights must name at least one VGG19 layer")
        if vgg is None:
            from maskstyle.nn.vgg import VGG19Features

            vgg = VGG19Features(layers=tuple(self.layer_weights), weights=weights, seed=seed)
        missing = [name for name in self.layer_weights if name not in getattr(vgg, "layers", ())]
        if missing:
            raise ValueError(
                f"the VGG does not return layers {missing}; build it with "
                f"VGG19Features(layers={tuple(self.layer_weights)})"
            )
        self.vgg, self.norm = vgg, norm
        self.provenance = getattr(vgg, "provenance", "VGG19 (unknown weights)")

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.shape != y.shape:
            raise ValueError(f"x {tuple(x.shape)} and y {tuple(y.shape)} must have the same shape")
        fx, fy = self.vgg(x), self.vgg(y)
        total = x.new_zeros(())
        for name, w in self.layer_weights.items():
            diff = fx[name] - fy[name].detach()
            # w_l * 1/(C H W) ||phi_l(x) - phi_l(y)||_p^p, averaged over the batch
            total = total + w * (diff.abs() if self.norm == "l1" else diff.square()).mean()
        return total


__all__ = ["PerceptualLoss", "SPADE_LAYER_WEIGHTS"]
