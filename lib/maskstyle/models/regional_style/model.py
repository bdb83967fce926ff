"""The harmonized regional style transfer model and its SEAN-family variants, one class.

``RegionalStyleNet`` = style encoder (multi-scale, Eqs. 1-2, or SEAN's) -> optional MRSA
(Eqs. 4-5) -> SEAN generator. :data:`VARIANTS` names the configurations the paper compares:

=================  ================  =========  ==========================================
variant            encoder fusion    MRSA       paper
=================  ================  =========  ==========================================
``ours``           softmax (Eq. 1)   yes        "Ours"
``ours_no_sa``     softmax           no         "Ours w/o SA" (Table 3)
``ours_no_softmax``  linear          no         "Ours w/o softmax" (Table 3)
``sean``           last layer only   no         SEAN (Zhu et al. 2020)
=================  ================  =========  ==========================================

Training is supervised reconstruction with ``x_r = x_s`` (paper Sec. 3.4): every region is
"transferred" from the image itself, so MRSA learns a correction of the image's own styles.
Images are in [0, 1] at the interface; the networks work in [-1, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from maskstyle.data.labels import NUM_CLASSES
from maskstyle.models.regional_style.attention import MultiRegionStyleAttention, swap_regions
from maskstyle.models.regional_style.encoder import MultiScaleStyleEncoder, check_image_labels
from maskstyle.models.regional_style.generator import RegionalGenerator

VARIANTS: dict[str, dict[str, object]] = {
    "ours": {"fusion": "softmax", "attention": True},
    "ours_no_sa": {"fusion": "softmax", "attention": False},
    "ours_no_softmax": {"fusion": "linear", "attention": False},
    "sean": {"fusion": "last", "attention": False},
}


@dataclass(frozen=True)
class RegionalStyleConfig:
    """Everything that defines the architecture (goes into checkpoint settings)."""

    variant: str = "ours"
    num_classes: int = NUM_CLASSES
    image_size: int = 256
    style_dim: int = 512
    encoder_ngf: int = 32
    generator_ngf: int = 64
    num_up: int = 5
    hidden: int = 128
    spectral: bool = True
    generator_norm: str = "instance"  # parameter-free norm of the SEAN blocks (official: batch)
    encoder_norm: str = "instance"  # SEAN's encoder; "none" keeps each image's mean colour
    last_scale_weight: float | None = None  # F_5's fusion weight at init (None: equal)
    fusion_resolution: str = "input"  # Eq. 2's unified size: the input's, or "last" (F_5's)

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {self.variant!r}")

    def as_dict(self) -> dict:
        return asdict(self)


class RegionalStyleNet(nn.Module):
    """Encoder + (MRSA) + SEAN generator. See the module docstring for the variants."""

    def __init__(self, config: RegionalStyleConfig | None = None, **overrides) -> None:
        super().__init__()
        config = RegionalStyleConfig(**overrides) if config is None else config
        self.config = config
        spec = VARIANTS[config.variant]
        self.encoder = MultiScaleStyleEncoder(
            config.num_classes,
            config.style_dim,
            config.encoder_ngf,
            fusion=str(spec["fusion"]),
            spectral=config.spectral,
            norm=config.encoder_norm,
            last_scale_weight=config.last_scale_weight,
            resolution=config.fusion_resolution,
        )
        self.attention = MultiRegionStyleAttention(config.style_dim) if spec["attention"] else None
        self.generator = RegionalGenerator(
            config.num_classes,
            config.image_size,
            config.generator_ngf,
            config.num_up,
            norm="sean",
            style_dim=config.style_dim,
            hidden=config.hidden,
            spectral=config.spectral,
            param_norm=config.generator_norm,
        )

    def encode(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Style matrix ``[B, K, D]`` of images in [0, 1]."""
        check_image_labels(images, labels, self.config.num_classes)
        return self.encoder(images * 2 - 1, labels)

    def present(self, labels: torch.Tensor) -> torch.Tensor:
        """``[B, K]`` bool: which regions each label map has."""
        k = self.config.num_classes
        return torch.zeros(labels.shape[0], k, dtype=torch.bool, device=labels.device).scatter_(
            1, labels.flatten(1), True
        )

    def mix(
        self,
        s_t: torch.Tensor,
        s_r: torch.Tensor,
        regions: torch.Tensor,
        present_t: torch.Tensor,
        present_r: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The target's style matrix after transferring ``regions`` (bool ``[K]``/``[B, K]``)
        from ``s_r``: MRSA (Eqs. 4-5) for ``ours``, a plain row swap otherwise. A region
        missing from the reference keeps the target's style."""
        regions = regions.to(s_t.device)
        if regions.dim() == 1:
            regions = regions.expand(s_t.shape[0], -1)
        if present_r is not None:
            regions = regions & present_r
        if self.attention is None:
            return swap_regions(s_t, s_r, regions)
        return self.attention(s_t, s_r, regions, present_t)

    def transfer(
        self,
        target: torch.Tensor,
        target_labels: torch.Tensor,
        reference: torch.Tensor | None = None,
        reference_labels: torch.Tensor | None = None,
        regions: torch.Tensor | None = None,
        styles: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Regional style transfer: the target's layout with ``regions`` styled like the
        reference (or like the given style matrix ``styles``). Returns images in [0, 1]."""
        s_t = self.encode(target, target_labels)
        k = self.config.num_classes
        regions = torch.ones(k, dtype=torch.bool) if regions is None else regions
        present_r = None
        if styles is None:
            if reference is None or reference_labels is None:
                reference, reference_labels = target, target_labels
            styles = self.encode(reference, reference_labels)
            present_r = self.present(reference_labels)
        mixed = self.mix(s_t, styles, regions, self.present(target_labels), present_r)
        return self.decode(target_labels, mixed)

    def decode(self, labels: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """Generator output in [0, 1] for a label map and a style matrix."""
        return (self.generator(labels, styles) + 1) / 2

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Reconstruction (training mode, ``x_r = x_s``)."""
        return self.transfer(images, labels)


__all__ = ["VARIANTS", "RegionalStyleConfig", "RegionalStyleNet"]
