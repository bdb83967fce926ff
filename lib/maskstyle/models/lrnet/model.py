"""The Localin-Reshuffle Network (LRNet, Zheng et al. 2020, Section 4.4, Fig. 6).

LRNet blends the face of ``x_A`` onto an aligned target ``x_B`` and, while doing so,
transfers B's lighting and texture onto the pasted face:

1. one shared encoder ``F`` - VGG19 ``conv1_1 .. relu2_1`` (Section 5.1; ``H/2 x W/2 x
   128``) - embeds both images (shared, so the features live in one space for the
   statistics, dot products and patch copies that follow);
2. the **LocalIN branch** (:func:`maskstyle.nn.local_in`, Eq. 3) gives every region of
   ``F(x_A)`` the statistics of the same region of ``F(x_B)``;
3. the **local reshuffle branch** (:func:`maskstyle.nn.local_reshuffle`, Eq. 4) rebuilds
   ``F(x_A)`` from B's same-region patches, optionally matched with 3D coordinates;
4. each branch result is alpha-blended into ``F(x_B)`` with the softened foreground mask
   ``a`` (A's blended regions, Gaussian-feathered at feature resolution):
   ``F_branch = a * F_new(x_A) + (1 - a) * F(x_B)``;
5. the two blended maps are concatenated (256 channels) and decoded by transposed
   convolutions to an RGB image at full size;
6. (``composite=True``, our reading of Eq. 5, which asks the background to be B's) the
   decoded image is pasted into ``x_B`` with the same feathered mask at image resolution,
   so the decoder only has to make the face: ``x~ = a * D(...) + (1 - a) * x_B``.
   ``composite=False`` returns the decoder's whole image, as Fig. 6 draws it.

Ablations (Section 5.2): ``branches=("localin",)`` is structure (a) - the LocalIN map is
concatenated with a copy of itself - and ``branches=("reshuffle",)`` structure (b).

The encoder is a frozen VGG19 (``weights`` = ``"imagenet"``, ``"random"`` or a path, as
:class:`maskstyle.nn.vgg.VGG19Features`); only the decoder trains. The paper gives the
decoder as "deconvolution layers"; ours is a 3x3 conv (256 -> 128), a stride-2 4x4
transposed conv (128 -> 64, back to ``H x W``), a 3x3 conv (64 -> 3) and a sigmoid.
Masks are LRNet's 10 region ids (:mod:`maskstyle.models.lrnet.regions`) at image size.
Both branches work only on the blended regions; everything else of ``F(x_A)`` is unused.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from maskstyle.baselines.blending import feather_mask
from maskstyle.models.lrnet.regions import LRNET_FACE_REGIONS, NUM_LRNET_REGIONS
from maskstyle.nn.local_in import local_in
from maskstyle.nn.local_reshuffle import DEFAULT_COORD_WEIGHT, coords_at, local_reshuffle
from maskstyle.nn.masks import check_label_map, resize_labels
from maskstyle.utils.shapes import expect_shape

BRANCHES = ("localin", "reshuffle")
ENCODER_LAYER = "relu2_1"
FEATURE_CHANNELS = 128
DEFAULT_FEATURE_SIGMA = 1.0
"""Feathering of the foreground mask, in feature pixels (= 2 image pixels; paper: unstated)."""


def check_branches(branches: Sequence[str]) -> tuple[str, ...]:
    """``branches`` as a tuple: a non-empty subset of :data:`BRANCHES` without repeats."""
    branches = tuple(branches)
    if not branches or set(branches) - set(BRANCHES) or len(set(branches)) != len(branches):
        raise ValueError(f"branches must be a non-empty subset of {BRANCHES}, got {branches}")
    return branches


def _conv_relu(in_ch: int, out_ch: int) -> list[nn.Module]:
    return [nn.Conv2d(in_ch, out_ch, 3, padding=1, padding_mode="reflect"), nn.ReLU(inplace=True)]


class LRNetDecoder(nn.Module):
    """``[B, 256, H/2, W/2]`` -> RGB ``[B, 3, H, W]`` in (0, 1) with one transposed conv.

    ``depth`` 3x3 conv+ReLU layers at ``H/2`` (``width`` channels, the first maps the input
    down) and ``depth - 1`` at ``H`` (``width/2`` channels) around one stride-2 4x4
    transposed conv, then a 3x3 conv to RGB and a sigmoid. ``depth=1`` is the smallest
    decoder (conv, deconv, conv); the paper says only "deconvolution layers".
    """

    def __init__(
        self, in_channels: int = 2 * FEATURE_CHANNELS, width: int = 128, depth: int = 1
    ) -> None:
        super().__init__()
        if depth < 1 or width < 2:
            raise ValueError(f"decoder depth must be >= 1 and width >= 2, got {depth}, {width}")
        half = width // 2
        layers = _conv_relu(in_channels, width)
        for _ in range(depth - 1):
            layers += _conv_relu(width, width)
        layers += [nn.ConvTranspose2d(width, half, 4, stride=2, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 1):
            layers += _conv_relu(half, half)
        layers += [nn.Conv2d(half, 3, 3, padding=1, padding_mode="reflect"), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


class LRNet(nn.Module):
    """LRNet (Fig. 6): ``forward(x_a, x_b, regions_a, regions_b, coords_a, coords_b)``.

    ``weights``/``seed`` choose the VGG19 encoder (``encoder`` may pass a ready
    :class:`~maskstyle.nn.vgg.VGG19Features` with ``relu2_1`` among its layers, e.g. one
    shared with the losses); ``branches`` any non-empty subset of ``("localin",
    "reshuffle")``; ``blend_regions`` the LRNet region ids taken from A.
    """

    def __init__(
        self,
        weights: str = "random",
        seed: int = 0,
        branches: Sequence[str] = BRANCHES,
        blend_regions: Sequence[int] = LRNET_FACE_REGIONS,
        feature_sigma: float = DEFAULT_FEATURE_SIGMA,
        coord_weight: float = DEFAULT_COORD_WEIGHT,
        patch_size: int = 3,
        encoder: nn.Module | None = None,
        composite: bool = True,
        decoder_width: int = 128,
        decoder_depth: int = 1,
    ) -> None:
        super().__init__()
        branches = check_branches(branches)
        if encoder is None:
            from maskstyle.nn.vgg import VGG19Features

            encoder = VGG19Features(layers=(ENCODER_LAYER,), weights=weights, seed=seed)
        if ENCODER_LAYER not in getattr(encoder, "layers", ()):
            raise ValueError(f"the encoder must return {ENCODER_LAYER!r} (VGG19 conv1_1..relu2_1)")
        self.encoder = encoder
        self.branches = branches
        self.blend_regions = tuple(int(r) for r in blend_regions)
        self.feature_sigma = feature_sigma
        self.coord_weight = coord_weight
        self.patch_size = patch_size
        with torch.random.fork_rng(devices=[]):  # seeded init, global RNG untouched
            torch.manual_seed(seed)
            self.decoder = LRNetDecoder(width=decoder_width, depth=decoder_depth)
        self.seed = seed
        self.composite = composite
        self.decoder_width, self.decoder_depth = decoder_width, decoder_depth

    @property
    def provenance(self) -> dict[str, str]:
        """Which weights made this model's numbers."""
        return {
            "encoder": getattr(self.encoder, "provenance", type(self.encoder).__name__),
            "decoder": getattr(self, "decoder_provenance", f"untrained init (seed {self.seed})"),
            "branches": "+".join(self.branches),
        }

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``F(x)``: VGG19 relu2_1 features ``[B, 128, H/2, W/2]``."""
        return self.encoder(images)[ENCODER_LAYER]

    def _check(self, x_a, x_b, regions_a, regions_b, coords_a, coords_b) -> None:
        pair = " (LRNet blends an aligned pair: x_a and x_b are images of one shape)"
        dims = expect_shape(x_a, ["B", 3, "H", "W"], "x_a", what="images", hint=pair)
        expect_shape(x_b, ["B", 3, "H", "W"], "x_b", what="images", hint=pair, dims=dims)
        if min(x_a.shape[-2:]) <= 32:
            raise ValueError(f"LRNet needs H, W > 32 (Section 5.1), got {tuple(x_a.shape[-2:])}")
        for name, regions in (("regions_a", regions_a), ("regions_b", regions_b)):
            check_label_map(regions, name)
            expect_shape(regions, ["B", "H", "W"], name, what="a label map",
                         hint=f" at the image size {tuple(x_a.shape[-2:])}", dims=dims)
            if regions.numel() and int(regions.max()) >= NUM_LRNET_REGIONS:
                raise ValueError(
                    f"{name} holds label {int(regions.max())} but LRNet has "
                    f"{NUM_LRNET_REGIONS} regions: map 19-class masks with "
                    "maskstyle.models.lrnet.to_lrnet_regions"
                )
        if (coords_a is None) != (coords_b is None):
            raise ValueError("give coords for both images (coords_a and coords_b) or for neither")
        for name, coords in (("coords_a", coords_a), ("coords_b", coords_b)):
            if coords is not None:
                expect_shape(coords, ["B", 3, "H", "W"], name, what="unit-sphere coordinates",
                             hint=f" at the image size {tuple(x_a.shape[-2:])}", dims=dims)

    def foreground(
        self, regions_a: torch.Tensor, blend_regions: Sequence[int] | None = None
    ) -> torch.Tensor:
        """Bool ``[B, H, W]``: A's pixels in ``blend_regions`` (default :attr:`blend_regions`)."""
        chosen = self.blend_regions if blend_regions is None else tuple(blend_regions)
        wanted = torch.tensor(chosen, dtype=regions_a.dtype, device=regions_a.device)
        return torch.isin(regions_a, wanted)

    def forward(
        self,
        x_a: torch.Tensor,
        x_b: torch.Tensor,
        regions_a: torch.Tensor,
        regions_b: torch.Tensor,
        coords_a: torch.Tensor | None = None,
        coords_b: torch.Tensor | None = None,
        *,
        blend_regions: Sequence[int] | None = None,
        branches: Sequence[str] | None = None,
    ) -> torch.Tensor:
        """Blend ``x_a``'s :attr:`blend_regions` onto ``x_b``: images ``[B, 3, H, W]`` in
        [0, 1], LRNet region maps ``[B, H, W]``, optional coordinates ``[B, 3, H, W]``.

        ``blend_regions`` / ``branches`` override the model's for this call (a demo switch:
        a branch switched off this way feeds the other one twice to a decoder trained on
        both, which is not the retrained ablation of Section 5.2).
        """
        self._check(x_a, x_b, regions_a, regions_b, coords_a, coords_b)
        regions = self.blend_regions if blend_regions is None else tuple(blend_regions)
        branches = self.branches if branches is None else check_branches(branches)
        # 1. one shared encoder: F(x_A), F(x_B)  [B, 128, H/2, W/2]
        feats = self.encode(torch.cat([x_a, x_b]))
        feat_a, feat_b = feats[: len(x_a)], feats[len(x_a) :]
        size = tuple(feat_a.shape[-2:])
        mask_a, mask_b = resize_labels(regions_a, size), resize_labels(regions_b, size)
        # 4. the feathered foreground a  [B, 1, H/2, W/2]
        alpha = feather_mask(self.foreground(mask_a, regions), self.feature_sigma)
        alpha = alpha.to(feat_a.dtype)
        blended = []
        if "localin" in branches:
            # 2. LocalIN (Eq. 3): A's regions with B's same-region statistics
            new = local_in(
                feat_a, feat_b, mask_a, mask_b, regions=regions, num_regions=NUM_LRNET_REGIONS
            )
            # 4. F_localin = a * LocalIN(F(x_A)) + (1 - a) * F(x_B)
            blended.append(alpha * new + (1 - alpha) * feat_b)
        if "reshuffle" in branches:
            # 3. local reshuffle (Eq. 4): A's regions rebuilt from B's same-region patches
            ca = coords_at(coords_a, size) if coords_a is not None else None
            cb = coords_at(coords_b, size) if coords_b is not None else None
            new = local_reshuffle(
                feat_a, feat_b, mask_a, mask_b, ca, cb, self.patch_size,
                coord_weight=self.coord_weight, regions=regions, num_regions=NUM_LRNET_REGIONS,
            )  # fmt: skip
            # 4. F_reshuffle = a * Reshuffle(F(x_A)) + (1 - a) * F(x_B)
            blended.append(alpha * new + (1 - alpha) * feat_b)
        if len(blended) == 1:  # ablations (a)/(b): concatenate the branch with its copy
            blended = blended * 2
        # 5. concatenate (256 channels) and decode to RGB  [B, 3, H, W]
        decoded = self.decoder(torch.cat(blended, dim=1))
        if not self.composite:
            return decoded
        # 6. Eq. 5 asks the background to be B's: paste the decoded face into B with the same
        # feathered mask, at image resolution (sigma in image px = 2 x the feature sigma)
        fg = self.foreground(regions_a, regions)
        alpha_img = feather_mask(fg, 2 * self.feature_sigma).to(decoded.dtype)
        return alpha_img * decoded + (1 - alpha_img) * x_b
