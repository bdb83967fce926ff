"""Harmony of a composite: a learned score (Zhu et al. 2015's realism classifier, as the
harmonized regional style transfer paper uses it, Section 4.1) and, on the face world, a
ground-truth error.

**Harmony score (HS).** A binary CNN sees an image concatenated with its foreground mask
(4 channels) and predicts whether it is a real photograph (positive) or a composite whose
foreground was pasted from elsewhere (negative); ``HS = sigmoid(logit)``, the probability
of "real". The paper trains it on HAdobe5k; on the face world, composites paste a region of
the same face rendered under another light (:func:`maskstyle.models.regional_style.data.
lighting_composites`), so the only cue is inconsistent lighting.

**Ground-truth harmony error.** The face world can re-render the target with the
reference's region appearance under the *target's* light - the harmonious answer a
transfer should produce. :func:`harmony_error` is the mean absolute error against it inside
the transferred region (where harmonisation acts) and over the whole image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.metrics._checks import image_pair


class HarmonyClassifier(nn.Module):
    """``(image [B, 3, H, W] in [0, 1], mask [B, H, W] bool) -> logit [B]`` (real = high)."""

    def __init__(self, width: int = 32, depth: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 4
        for i in range(depth):
            c_out = width * 2 ** min(i, 3)
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, 1)

    def forward(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be RGB [B, 3, H, W], got {tuple(images.shape)}")
        if masks.shape != (images.shape[0], *images.shape[-2:]):
            raise ValueError(
                f"masks must be [B, H, W] = {(images.shape[0], *images.shape[-2:])} (the "
                f"foreground of each image), got {tuple(masks.shape)}"
            )
        x = torch.cat([images * 2 - 1, masks[:, None].to(images) * 2 - 1], 1)
        return self.head(self.features(x).mean((2, 3)))[:, 0]


@torch.no_grad()
def harmony_score(
    classifier: HarmonyClassifier, images: torch.Tensor, masks: torch.Tensor
) -> torch.Tensor:
    """``[B]`` HS = P(real | image, mask) in [0, 1]."""
    was = classifier.training
    classifier.eval()
    try:
        return torch.sigmoid(classifier(images, masks))
    finally:
        classifier.train(was)


def train_harmony_classifier(
    classifier: HarmonyClassifier,
    real: torch.Tensor,
    composite: torch.Tensor,
    masks: torch.Tensor,
    steps: int = 200,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> list[dict[str, float]]:
    """Train on pairs (``real[i]``, ``composite[i]``, shared ``masks[i]``) with binary
    cross-entropy (real = 1); returns per-step ``{"loss", "accuracy"}``."""
    real, composite = image_pair(real, composite)
    if masks.shape != (real.shape[0], *real.shape[-2:]) or masks.dtype != torch.bool:
        raise ValueError(f"masks must be bool [N, H, W] matching the images, got {masks.shape}")
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(classifier.parameters(), lr=lr)
    classifier.train()
    history = []
    from tqdm.auto import trange

    for _ in trange(steps, disable=not progress, desc="harmony classifier"):
        idx = torch.randint(0, real.shape[0], (batch_size,), generator=g)
        x = torch.cat([real[idx], composite[idx]])
        m = torch.cat([masks[idx], masks[idx]])
        y = torch.cat([torch.ones(len(idx)), torch.zeros(len(idx))])
        logits = classifier(x, m)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        acc = ((logits > 0).float() == y).float().mean()
        history.append({"loss": float(loss.detach()), "accuracy": float(acc)})
    classifier.eval()
    return history


def harmony_error(
    output: torch.Tensor, truth: torch.Tensor, region: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Ground-truth harmony error ``{"region": [B], "image": [B]}``: mean ``|output - truth|``
    inside the bool ``region [B, H, W]`` and over the whole image (images in [0, 1])."""
    output, truth = image_pair(output, truth)
    if region.dtype != torch.bool or region.shape != (output.shape[0], *output.shape[-2:]):
        raise ValueError(
            f"region must be a bool mask [B, H, W] = {(output.shape[0], *output.shape[-2:])}, "
            f"got {region.dtype} {tuple(region.shape)}"
        )
    diff = (output - truth).abs().mean(1)  # [B, H, W]
    count = region.flatten(1).sum(1)
    if (count == 0).any():
        raise ValueError("region is empty in some image; evaluate only images that contain it")
    inside = (diff * region).flatten(1).sum(1) / count
    return {"region": inside, "image": diff.flatten(1).mean(1)}


__all__ = ["HarmonyClassifier", "harmony_error", "harmony_score", "train_harmony_classifier"]
