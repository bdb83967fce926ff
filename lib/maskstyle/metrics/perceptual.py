"""LPIPS, only when its backbone weights are really present.

LPIPS (Zhang et al. 2018, Eq. 1) compares unit-normalised deep features of two images
layer by layer, weights the squared differences per channel with learned linear heads
``w_l`` and averages over space and layers:

    d(x, y) = sum_l 1/(H_l W_l) sum_{h,w} || w_l * (f^l_hw(x) - f^l_hw(y)) ||^2.

torchmetrics' ``LearnedPerceptualImagePatchSimilarity`` ships the linear heads but builds
the backbone with torchvision's ImageNet weights (``AlexNet_Weights.DEFAULT`` etc.), which
torchvision loads from the torch hub cache, downloading them if absent. No download is
possible here, so :func:`lpips_available` checks the cache first and :func:`lpips` raises
:class:`MetricUnavailableError` with the missing file and where to put it. A results table
must show LPIPS as unavailable with that reason, never a value from random weights.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from maskstyle.metrics._checks import MetricUnavailableError, image_pair, reduce
from maskstyle.nn.weights import (
    check_file_hash,
    hub_checkpoint_path,
    missing_weights_message,
    sha256_file,
)

# LPIPS net name -> (torchvision weights enum, architecture) as torchmetrics uses them.
LPIPS_BACKBONES = {
    "alex": ("AlexNet_Weights", "alexnet"),
    "vgg": ("VGG16_Weights", "vgg16"),
    "squeeze": ("SqueezeNet1_1_Weights", "squeezenet1_1"),
}
_METRICS: dict[str, torch.nn.Module] = {}


def _check_net(net: str) -> None:
    if net not in LPIPS_BACKBONES:
        raise ValueError(f"net must be one of {sorted(LPIPS_BACKBONES)}, got {net!r}")


def lpips_backbone_url(net: str = "alex") -> str:
    """URL of the ImageNet backbone torchmetrics would load for ``net`` (torchvision's)."""
    _check_net(net)
    import torchvision.models

    return getattr(torchvision.models, LPIPS_BACKBONES[net][0]).DEFAULT.url


def lpips_backbone_path(net: str = "alex") -> Path:
    """Where torchvision looks for that backbone: ``torch.hub.get_dir()/checkpoints/...``."""
    return hub_checkpoint_path(lpips_backbone_url(net))


def lpips_head_path(net: str = "alex") -> Path:
    """torchmetrics' bundled LPIPS linear-head weights for ``net``."""
    _check_net(net)
    spec = importlib.util.find_spec("torchmetrics")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "functional" / "image" / "lpips_models" / f"{net}.pth"


def lpips_available(net: str = "alex", verify_hash: bool = True) -> tuple[bool, str]:
    """``(True, provenance)`` if LPIPS-``net`` can run offline, else ``(False, reason)``.

    ``verify_hash`` checks the backbone file against the sha256 prefix in its name; turn it
    off only to test the plumbing with stand-in weights.
    """
    _check_net(net)
    head = lpips_head_path(net)
    if not head.is_file():
        return False, f"LPIPS-{net}: torchmetrics' linear-head file is missing: {head}"
    url = lpips_backbone_url(net)
    backbone = hub_checkpoint_path(url)
    if not backbone.is_file():
        return False, missing_weights_message(backbone, url, f"LPIPS-{net} ImageNet backbone")
    if verify_hash:
        try:
            check_file_hash(backbone)
        except ValueError as error:
            return False, f"LPIPS-{net}: {error}"
    checked = "" if verify_hash else ", hash NOT verified"
    return True, (
        f"LPIPS-{net}: torchmetrics heads + torchvision backbone {backbone} "
        f"(sha256 {sha256_file(backbone)[:12]}{checked})"
    )


def lpips(
    pred: torch.Tensor,
    target: torch.Tensor,
    net: str = "alex",
    reduction: str = "mean",
    verify_hash: bool = True,
) -> torch.Tensor | float:
    """LPIPS distance of images in [0, 1] (lower = more similar); raises
    :class:`MetricUnavailableError` (with the reason) when the backbone weights are absent."""
    ok, reason = lpips_available(net, verify_hash=verify_hash)
    if not ok:
        raise MetricUnavailableError(reason)
    pred, target = image_pair(pred, target)
    if pred.shape[1] != 3:
        raise ValueError(f"LPIPS needs RGB images [B, 3, H, W], got {tuple(pred.shape)}")
    key = f"{net}:{lpips_backbone_path(net)}"
    if key not in _METRICS:
        from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

        _METRICS[key] = LearnedPerceptualImagePatchSimilarity(
            net_type=net, reduction="none", normalize=True
        ).eval()
    metric = _METRICS[key].to(pred.device)
    with torch.no_grad():
        metric.reset()
        metric.update(pred.float(), target.float())
        values = metric.compute().reshape(-1)
    metric.reset()
    return reduce(values, reduction)


__all__ = [
    "LPIPS_BACKBONES",
    "MetricUnavailableError",
    "lpips",
    "lpips_available",
    "lpips_backbone_path",
    "lpips_backbone_url",
    "lpips_head_path",
]
