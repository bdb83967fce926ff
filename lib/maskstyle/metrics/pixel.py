"""Full-image fidelity: PSNR and SSIM for images in [0, 1] (torchmetrics underneath).

PSNR with peak 1:

    PSNR(x, y) = 10 log10( 1 / MSE(x, y) ),   MSE = 1/(CHW) sum (x - y)^2,

infinite for identical images. SSIM (Wang et al. 2004, Eq. 13), per pixel with local
statistics under an 11x11 Gaussian window (sigma 1.5),

    SSIM = (2 mu_x mu_y + C1) (2 sigma_xy + C2)
           / ((mu_x^2 + mu_y^2 + C1) (sigma_x^2 + sigma_y^2 + C2)),

``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``, ``L = 1``, averaged over pixels and channels.
torchmetrics reflect-pads the image so the SSIM map covers every pixel and the average
includes the 5-pixel border; ``skimage.metrics.structural_similarity`` (and Wang's MATLAB
code) average only the interior, so the two means differ slightly; their maps agree to
machine precision away from the border (see tests).
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import (
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

from maskstyle.metrics._checks import image_pair, reduce


def psnr(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor | float:
    """PSNR in dB of ``pred`` vs ``target`` (``[B, C, H, W]`` or ``[C, H, W]``, in [0, 1]).

    ``reduction="mean"`` gives the mean over images as a float, ``"none"`` a tensor ``[B]``.
    """
    pred, target = image_pair(pred, target)
    values = peak_signal_noise_ratio(pred, target, data_range=1.0, reduction="none", dim=(1, 2, 3))
    return reduce(values, reduction)


def ssim_map(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The per-pixel SSIM map ``[B, C, H, W]`` (Gaussian 11x11, sigma 1.5, data range 1)."""
    pred, target = image_pair(pred, target)
    if min(pred.shape[-2:]) < 6:
        raise ValueError(
            f"SSIM needs images of at least 6x6 pixels (11x11 window, reflect padding), "
            f"got {tuple(pred.shape[-2:])}"
        )
    _, full = structural_similarity_index_measure(
        pred, target, data_range=1.0, reduction="none", return_full_image=True
    )
    return full


def ssim(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor | float:
    """Mean SSIM of ``pred`` vs ``target`` per image (1 for identical images)."""
    return reduce(ssim_map(pred, target).mean(dim=(1, 2, 3)), reduction)
