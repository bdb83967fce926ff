"""The paper's feed-forward baselines (Lu et al. 2017, Sec. 5.2 and Fig. 9).

- **Johnson et al. 2016** ([15], "perceptual losses", 0.063 s in the paper): an image
  transformation network ``T`` trained so that ``T(I_c)`` minimises Gatys' loss for ONE
  fixed style; at test time one forward pass, no optimisation:

      theta* = argmin_theta E_{I_c}[L_content(f(T(I_c)), f(I_c)) + w_s L_style(f(T(I_c)), f(I_s))]

  Architecture (Johnson's supplementary, scaled by ``width``): 9x9 conv, two stride-2 3x3
  convs, ``residual_blocks`` residual blocks, two 2x upsampling convs, 9x9 conv to RGB;
  instance normalisation and reflection padding as in Ulyanov et al.'s improvement.

- **Fast-Gatys2016** (Gatys et al. 2017, "Controlling perceptual factors", Sec. 4.1 with a
  feed-forward network; 0.064 s and a user rating of 1.5 in the paper): the same network
  with ``guide_channels`` extra input channels, the one-hot guide (region) maps, and the
  style loss computed per guided region, ``sum_g ||G_g(T(I_c, M)) - G_g^target||^2``, with
  ``G_g`` the Gram matrix over the positions of region ``g``
  (:func:`maskstyle.nn.gram.region_gram`).
  The targets of the guides come either from **two style images** (guide 0 <- style A,
  guide 1 <- style B: Fig. 9, row 1) or from **the regions of one style image** (guide k <-
  region k of the style: Fig. 9, row 2), see :func:`style_targets`.

The losses are the normalisation of :mod:`maskstyle.baselines.gatys` (content: mean squared
feature difference; style: mean over the ``C^2`` entries of ``(G / C - G_t / C)^2``,
averaged over the active guides), so their weights mean the same thing there and here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.nn.gram import region_gram
from maskstyle.nn.masks import resize_labels
from maskstyle.nn.vgg import VGG19Features
from maskstyle.utils.shapes import expect_shape


def _conv(
    in_ch: int, out_ch: int, kernel: int, stride: int = 1, relu: bool = True
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(in_ch, out_ch, kernel, stride),
        nn.InstanceNorm2d(out_ch, affine=True),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, 3), _conv(channels, channels, 3, relu=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TransferNet(nn.Module):
    """Johnson's image transformation network; with ``guide_channels > 0``, Fast-Gatys2016's.

    ``forward(image [B, 3, H, W], guides [B, G, H, W] | None) -> [B, 3, H, W]`` in [0, 1]
    (a sigmoid on the last conv). ``H`` and ``W`` must be multiples of 4 (two stride-2
    convs and two 2x upsamplings). ``width`` is the first conv's channels (Johnson: 32).
    """

    def __init__(
        self, guide_channels: int = 0, width: int = 32, residual_blocks: int = 5, seed: int = 0
    ) -> None:
        super().__init__()
        if guide_channels < 0 or width < 1 or residual_blocks < 0:
            raise ValueError(
                f"guide_channels >= 0, width >= 1, residual_blocks >= 0 expected, got "
                f"{guide_channels}, {width}, {residual_blocks}"
            )
        self.guide_channels, self.width, self.residual_blocks = (
            guide_channels,
            width,
            residual_blocks,
        )
        with torch.random.fork_rng(devices=[]):  # seeded init, global RNG untouched
            torch.manual_seed(seed)
            self.net = nn.Sequential(
                _conv(3 + guide_channels, width, 9),
                _conv(width, 2 * width, 3, stride=2),
                _conv(2 * width, 4 * width, 3, stride=2),
                *[_Residual(4 * width) for _ in range(residual_blocks)],
                nn.Upsample(scale_factor=2, mode="nearest"),
                _conv(4 * width, 2 * width, 3),
                nn.Upsample(scale_factor=2, mode="nearest"),
                _conv(2 * width, width, 3),
                nn.ReflectionPad2d(4),
                nn.Conv2d(width, 3, 9),
            )
        kind = "Fast-Gatys2016 (guided)" if guide_channels else "Johnson"
        self.provenance = f"TransferNet {kind}: random init, seed {seed} - untrained"

    def forward(self, image: torch.Tensor, guides: torch.Tensor | None = None) -> torch.Tensor:
        expect_shape(image, ["B", 3, "H", "W"], "TransferNet's image", what="images")
        if image.shape[-1] % 4 or image.shape[-2] % 4:
            raise ValueError(
                f"TransferNet needs H and W divisible by 4 (two stride-2 convs), got "
                f"{tuple(image.shape[-2:])}: resize the image, e.g. to 64 or 256 px"
            )
        if self.guide_channels:
            if guides is None or guides.shape != (
                image.shape[0],
                self.guide_channels,
                *image.shape[-2:],
            ):
                got = None if guides is None else tuple(guides.shape)
                raise ValueError(
                    f"this guided TransferNet needs guides [B, {self.guide_channels}, H, W] beside "
                    f"the image {tuple(image.shape)}, got {got}: build them with "
                    "guide_maps(mask, num_guides, groups)"
                )
            image = torch.cat([image, guides.to(image.dtype)], 1)
        elif guides is not None:
            raise ValueError(
                "this TransferNet has no guide channels: build TransferNet(guide_channels=G)"
            )
        return torch.sigmoid(self.net(image))


def group_labels(mask: torch.Tensor, groups: Sequence[Sequence[int]] | None) -> torch.Tensor:
    """Label map ``[B, H, W]`` -> guide index per pixel (``groups[g]`` lists the labels of
    guide ``g``; labels in no group go to the last guide). ``None``: every label is its own
    guide (labels unchanged)."""
    if groups is None:
        return mask.long()
    size = max([int(mask.max()) + 1] + [int(k) + 1 for group in groups for k in group])
    lookup = torch.full((size,), len(groups) - 1, dtype=torch.long)
    for g, labels in enumerate(groups):
        for k in labels:
            lookup[int(k)] = g
    return lookup[mask.long()]


def guide_maps(
    mask: torch.Tensor, num_guides: int, groups: Sequence[Sequence[int]] | None = None
) -> torch.Tensor:
    """One-hot guide channels ``[B, G, H, W]`` (float) of a label map ``[B, H, W]``."""
    guide = group_labels(mask, groups)
    if int(guide.max()) >= num_guides:
        raise ValueError(
            f"label {int(guide.max())} >= num_guides {num_guides}: raise num_guides or pass groups"
        )
    return F.one_hot(guide, num_guides).permute(0, 3, 1, 2).float()


@dataclass
class StyleTargets:
    """Gram targets ``[G, C, C]`` per style layer and which guides have one (``valid [G]``)."""

    grams: dict[str, torch.Tensor]
    valid: torch.Tensor
    description: str


def style_targets(
    encoder: VGG19Features,
    styles: torch.Tensor,
    style_masks: torch.Tensor | None,
    layers: Sequence[str],
    num_guides: int,
) -> StyleTargets:
    """Targets for the style loss, one Gram matrix per guide and layer.

    - ``styles [1, 3, H, W]``, ``style_masks None``: one guide, the whole style (Johnson);
    - ``styles [1, 3, H, W]`` with ``style_masks [1, H, W]``: guide ``k`` <- region ``k`` of the
      one style image (Fig. 9, row 2); a region absent from the style is not ``valid``;
    - ``styles [G, 3, H, W]``, ``style_masks None``: guide ``g`` <- the whole of style ``g``
      (two styles in one image, Fig. 9, row 1).
    """
    with torch.no_grad():
        feats = encoder(styles)
    grams, valid = {}, None
    for layer in layers:
        feat = feats[layer]
        if style_masks is None:
            g = region_gram(
                feat, feat.new_zeros((feat.shape[0], *feat.shape[-2:]), dtype=torch.long), 1
            )[0]
            g = g[:, 0]  # [S, C, C]
            if styles.shape[0] not in (1, num_guides):
                raise ValueError(
                    f"{styles.shape[0]} style images for {num_guides} guides: give 1 or "
                    f"{num_guides}"
                )
            grams[layer] = g.expand(num_guides, -1, -1) if styles.shape[0] == 1 else g
            valid = torch.ones(num_guides, dtype=torch.bool)
        else:
            if styles.shape[0] != 1:
                raise ValueError("with style_masks give one style image [1, 3, H, W]")
            small = resize_labels(style_masks, tuple(feat.shape[-2:])).clamp_max(num_guides - 1)
            g, counts = region_gram(feat, small, num_guides)
            grams[layer] = g[0]
            # a guide is valid where the style has it at every layer
            here = counts[0] > 0
            valid = here if valid is None else valid & here
    kind = "whole style" if style_masks is None else "regions of one style"
    return StyleTargets(
        grams, valid, f"{styles.shape[0]} style image(s), {kind}, layers {tuple(layers)}"
    )


class FeedForwardLoss:
    """Gatys' loss for a batch of transfer-net outputs against fixed style targets."""

    def __init__(
        self,
        encoder: VGG19Features,
        targets: StyleTargets,
        content_layers: Sequence[str] = ("relu3_1",),
        content_weight: float = 1.0,
        style_weight: float = 1e6,
    ) -> None:
        missing = [lyr for lyr in (*content_layers, *targets.grams) if lyr not in encoder.layers]
        if missing:
            raise ValueError(
                f"encoder lacks layers {missing}: build VGG19Features(layers=...) with them"
            )
        self.encoder, self.targets = encoder, targets
        self.content_layers = tuple(content_layers)
        self.content_weight, self.style_weight = content_weight, style_weight

    def __call__(
        self, output: torch.Tensor, content: torch.Tensor, guide_labels: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """``{"content", "style", "total"}``; ``guide_labels [B, H, W]`` (None: one guide)."""
        check, self.encoder.check_range = self.encoder.check_range, False
        try:
            feats = self.encoder(output)
            with torch.no_grad():
                c_feats = self.encoder(content)
        finally:
            self.encoder.check_range = check
        c_loss = sum(F.mse_loss(feats[lyr], c_feats[lyr]) for lyr in self.content_layers)
        s_loss = output.new_zeros(())
        num_guides = int(self.targets.valid.shape[0])
        for layer, target in self.targets.grams.items():
            feat = feats[layer]
            channels = feat.shape[1]
            if guide_labels is None:
                labels = feat.new_zeros((feat.shape[0], *feat.shape[-2:]), dtype=torch.long)
            else:
                labels = resize_labels(guide_labels, tuple(feat.shape[-2:]))
            grams, counts = region_gram(feat, labels, num_guides)  # [B, G, C, C]
            per_guide = ((grams - target[None]) / channels).square().mean((-1, -2))  # [B, G]
            active = ((counts > 0) & self.targets.valid[None]).to(feat.dtype)
            s_loss = s_loss + ((per_guide * active).sum(-1) / active.sum(-1).clamp_min(1.0)).mean()
        c_loss, s_loss = self.content_weight * c_loss, self.style_weight * s_loss
        return {"content": c_loss, "style": s_loss, "total": c_loss + s_loss}


@dataclass
class FeedForwardTraining:
    """What :func:`train_transfer_net` returns: per-step losses and the wall time."""

    history: list[dict[str, float]]
    seconds: float


def train_transfer_net(
    net: TransferNet,
    loss: FeedForwardLoss,
    batches: Iterator[Mapping[str, torch.Tensor]],
    steps: int,
    lr: float = 1e-3,
    groups: Sequence[Sequence[int]] | None = None,
    progress: bool = True,
) -> FeedForwardTraining:
    """Adam on ``loss`` for ``steps`` batches ``{"content" [B, 3, H, W], "content_mask"}``.

    A guided net gets ``guide_maps(content_mask, net.guide_channels, groups)`` as input and
    its style loss is computed per guide; an unguided one ignores the masks.
    """
    from tqdm.auto import tqdm

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    net.train()
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=f"train {net.provenance.split(':')[0]}", disable=not progress)
    for step in bar:
        batch = next(batches)
        content = batch["content"]
        labels = guides = None
        if net.guide_channels:
            labels = group_labels(batch["content_mask"], groups)
            guides = guide_maps(batch["content_mask"], net.guide_channels, groups)
        out = net(content, guides)
        losses = loss(out, content, labels)
        optimizer.zero_grad()
        losses["total"].backward()
        optimizer.step()
        row = {"step": step + 1, **{k: float(v.detach()) for k, v in losses.items()}}
        history.append(row)
        bar.set_postfix(total=f"{row['total']:.3g}")
    net.eval()
    seconds = time.perf_counter() - start
    kind = "Fast-Gatys2016 (guided)" if net.guide_channels else "Johnson"
    net.provenance = (
        f"TransferNet {kind}: trained {steps} steps (Adam lr {lr:g}) on {loss.targets.description}"
    )
    return FeedForwardTraining(history, seconds)


def save_transfer_net(net: TransferNet, path: str | os.PathLike) -> Path:
    """Weights, architecture and provenance of ``net`` in one file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"guide_channels": net.guide_channels, "width": net.width,
              "residual_blocks": net.residual_blocks}  # fmt: skip
    torch.save({"config": config, "state": net.state_dict(), "provenance": net.provenance}, path)
    return path


def load_transfer_net(path: str | os.PathLike) -> TransferNet:
    """A :class:`TransferNet` saved by :func:`save_transfer_net` (eval mode)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no transfer net at {path}: run 04_ablations.ipynb of this profile first"
        )
    payload = torch.load(path, map_location="cpu", weights_only=True)
    net = TransferNet(**payload["config"])
    net.load_state_dict(payload["state"])
    net.provenance = payload["provenance"]
    return net.eval()


__all__ = [
    "load_transfer_net",
    "save_transfer_net",
    "FeedForwardLoss",
    "FeedForwardTraining",
    "StyleTargets",
    "TransferNet",
    "group_labels",
    "guide_maps",
    "style_targets",
    "train_transfer_net",
]
