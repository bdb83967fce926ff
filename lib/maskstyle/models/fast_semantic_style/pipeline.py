"""The fast semantic style transfer pipeline (Lu et al. 2017, Fig. 2).

Split the gradient of the style transfer loss (Eq. 2) in two:

    dL/dI_o = dL/df(I_o) * df(I_o)/dI_o .

The first factor lives inside one feature layer and is solved there, region by region, by
the lightweight reconstruction of Eqs. 3-5 (:mod:`maskstyle.nn.feature_reconstruction`); the
second - back-propagation through VGG, the expensive part of Gatys' method - is replaced by
one pass of a trained decoder (:class:`maskstyle.nn.vgg_decoder.VGGDecoder`):

    I_o = g( R(f(I_c), f(I_s); masks) ),

encode content and style once (``f``), reconstruct the stylised feature (``R``), decode
(``g``). No back-propagation at all at test time.

Label maps are given at image resolution ``[B, H, W]`` and resized to every layer by
nearest neighbour. ``method`` selects what ``R`` is: ``"linear"`` (the paper: Eq. 5 with the
linear kernel), ``"gram"`` (quadratic-kernel ablation, gradient steps in the layer) or
``"patch_swap"`` (Fig. 11's comparison, region-restricted neural patch swap).

**Several layers** (Fig. 10 ablation). The paper reconstructs in one layer and names
combining layers as future work; here ``layers=("relu4_1", "relu3_1")`` runs the pipeline
coarse-to-fine (deepest first), each stage starting from the previous stage's decoded image
as its content - our reading, documented as such in the notebooks.

**Speed** (the paper's claim is speed, so the test-time path is engineered as any user would
want it, and :func:`maskstyle.baselines.gatys.gatys_transfer` gets the same treatment where it
helps it): content and style of the same size are encoded in ONE batched VGG pass (one call,
one read of the weights; on this 2-core CPU, channels-last, batch 2 measured 1.0-1.1 times
the cost of two batch-1 passes, so it gains little here - the benchmark prints the ratio of
each run); encoder and decoders run in the channels-last memory format
(``channels_last=True``: NHWC convolutions, about 1.35x faster on this CPU, the same fp32
arithmetic up to summation order); the whole forward path runs under
:func:`torch.inference_mode` (no autograd bookkeeping; the Gram-kernel ablation, which takes
gradient steps, runs under ``no_grad`` instead). fp32 throughout.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from maskstyle.nn.feature_reconstruction import (
    ReconstructionResult,
    reconstruct_gram,
    reconstruct_linear,
)
from maskstyle.nn.masks import check_image_label_map, resize_labels
from maskstyle.nn.patch_swap import patch_swap
from maskstyle.nn.vgg import VGG19_LAYERS, VGG19Features
from maskstyle.nn.vgg_decoder import VGGDecoder
from maskstyle.utils.shapes import expect_shape

Method = Literal["linear", "gram", "patch_swap"]


@dataclass
class TransferResult:
    """Stylised ``image [B, 3, H, W]`` in [0, 1]; per-layer reconstructions and timings."""

    image: torch.Tensor
    features: dict[str, torch.Tensor]
    reconstructions: dict[str, ReconstructionResult]
    seconds: dict[str, float]
    provenance: str
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)


def use_channels_last(module: nn.Module) -> nn.Module:
    """Put ``module``'s 4-D parameters (conv weights) in the channels-last memory format, in
    place; returns it. Values are unchanged: any input layout still works, and outputs follow
    the channels-last layout."""
    return module.to(memory_format=torch.channels_last)


def _check_image(image: torch.Tensor, name: str) -> None:
    expect_shape(image, ["B", 3, "H", "W"], name, what="images", hint=" (values in [0, 1])")


class FastSemanticStyleTransfer(nn.Module):
    """Encode with VGG19, reconstruct per region in feature space, decode.

    ``decoders`` maps layer names to trained :class:`VGGDecoder`s (a single decoder is
    accepted). ``encoder`` must return those layers; if ``None`` one is built with
    ``weights`` (``"imagenet"``, ``"random"`` or a path). ``channels_last`` converts the
    encoder and the decoders (in place) to the channels-last memory format (see the module
    docstring); outputs are returned in the ordinary contiguous layout.
    """

    def __init__(
        self,
        decoders: Mapping[str, VGGDecoder] | VGGDecoder,
        encoder: VGG19Features | None = None,
        weights: str = "imagenet",
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(decoders, VGGDecoder):
            decoders = {decoders.layer: decoders}
        for layer, decoder in decoders.items():
            if decoder.layer != layer:
                raise ValueError(f"decoders[{layer!r}] inverts {decoder.layer!r}, not {layer!r}")
        if not decoders:
            raise ValueError("give at least one decoder, e.g. {'relu3_1': VGGDecoder('relu3_1')}")
        self.decoders = nn.ModuleDict(dict(decoders))
        if encoder is None:
            encoder = VGG19Features(tuple(decoders), weights=weights)
        absent = [layer for layer in decoders if layer not in encoder.layers]
        if absent:
            raise ValueError(
                f"encoder does not return {absent}; build it with "
                f"VGG19Features(layers={tuple(decoders)!r}, ...)"
            )
        self.encoder = encoder
        self.channels_last = channels_last
        if channels_last:
            use_channels_last(self)
        self.eval()

    @classmethod
    def from_checkpoints(
        cls, folders: Mapping[str, str | os.PathLike], weights: str = "imagenet", seed: int = 0
    ) -> FastSemanticStyleTransfer:
        """Decoders from :func:`train_decoder` output folders (layer -> folder) and the VGG19
        they were trained against (``weights``/``seed`` must match what the checkpoints say)."""
        from maskstyle.models.fast_semantic_style.training import load_decoder

        decoders = {}
        for layer, folder in folders.items():
            decoder = load_decoder(folder, layer)
            kind, trained_seed = decoder.trained_with
            want = (
                "random"
                if weights == "random"
                else ("imagenet" if weights == "imagenet" else "file")
            )
            if kind is not None and (kind != want or (kind == "random" and trained_seed != seed)):
                raise ValueError(
                    f"the {layer} decoder in {folder} was trained against VGG19 weights "
                    f"{kind!r} (seed {trained_seed}), not {weights!r} (seed {seed}): decode "
                    "features of the encoder it was trained with"
                )
            decoders[layer] = decoder
        encoder = VGG19Features(tuple(decoders), weights=weights, seed=seed)
        return cls(decoders, encoder)

    @property
    def brief_provenance(self) -> str:
        """One short line for tables: encoder weights and each decoder's training steps."""
        seed = f" (seed {self.encoder.seed})" if self.encoder.seed is not None else ""
        steps = ", ".join(
            f"{layer} {getattr(d, 'trained_steps', None) or 'untrained'}"
            + (" steps" if getattr(d, "trained_steps", None) else "")
            for layer, d in self.decoders.items()
        )
        return f"VGG19 {self.encoder.weights_kind}{seed}; decoders (Eq. 6): {steps}"

    @property
    def provenance(self) -> str:
        parts = [self.encoder.provenance] + [d.provenance for d in self.decoders.values()]
        return "; ".join(parts)

    @torch.no_grad()
    def reconstruct(
        self,
        content_feat: torch.Tensor,
        style_feat: torch.Tensor,
        content_mask: torch.Tensor | None,
        style_mask: torch.Tensor | None,
        method: Method = "linear",
        style_weight: float = 1e8,
        iterations: int = 500,
        **options,
    ) -> ReconstructionResult:
        """Run ``R`` on features (masks already at feature size)."""
        if method == "linear":
            return reconstruct_linear(
                content_feat,
                style_feat,
                content_mask,
                style_mask,
                style_weight,
                iterations,
                **options,
            )
        if method == "gram":
            with torch.enable_grad():
                return reconstruct_gram(
                    content_feat,
                    style_feat,
                    content_mask,
                    style_mask,
                    style_weight,
                    iterations,
                    **options,
                )
        if method == "patch_swap":
            feature = patch_swap(
                content_feat, style_feat, 3, 1, content_mask, style_mask, **options
            )
            empty = torch.zeros(content_feat.shape[0], 0)  # patch swap minimises no loss here
            return ReconstructionResult(feature, empty, empty.clone())
        raise ValueError(f"method must be 'linear', 'gram' or 'patch_swap', got {method!r}")

    def forward(
        self,
        content: torch.Tensor,
        style: torch.Tensor,
        content_mask: torch.Tensor | None = None,
        style_mask: torch.Tensor | None = None,
        layers: Sequence[str] | str | None = None,
        method: Method = "linear",
        style_weight: float = 1e8,
        iterations: int = 500,
        **options,
    ) -> TransferResult:
        """Stylise ``content`` with ``style`` ``[B, 3, H, W]`` in [0, 1].

        ``layers`` (default: the shallowest decoder's layer) runs deepest first when several
        are given. ``options`` go to the reconstruction (``coefficient``, ``relaxation``,
        ``region_map``, ``missing_region``, ``snapshot_at`` for ``"linear"``; ``lr`` for
        ``"gram"``; ``missing_region`` for ``"patch_swap"``). Runs under
        :func:`torch.inference_mode` (``no_grad`` for ``"gram"``): the returned tensors are
        inference tensors, fine for display and scoring under ``no_grad``; ``.clone()`` one
        outside inference mode to use it in autograd.
        """
        _check_image(content, "content")
        _check_image(style, "style")
        if content.shape[0] != style.shape[0]:
            raise ValueError(
                f"content and style batch sizes differ ({content.shape[0]} vs "
                f"{style.shape[0]}): pair every content image with one style image"
            )
        if (content_mask is None) != (style_mask is None):
            raise ValueError("give both content_mask and style_mask or neither (one region)")
        if content_mask is not None:
            check_image_label_map(content, content_mask, "content_mask")
            check_image_label_map(style, style_mask, "style_mask")
        if layers is None:
            layers = (min(self.decoders, key=lambda name: VGG19Features.downsampling(name)),)
        elif isinstance(layers, str):
            layers = (layers,)
        missing = [layer for layer in layers if layer not in self.decoders]
        if missing:
            raise ValueError(f"no decoder for {missing}; this pipeline has {list(self.decoders)}")
        layers = sorted(layers, key=VGG19Features.downsampling, reverse=True)

        # inference_mode: no autograd records at all; the Gram ablation needs gradient steps
        # inside the layer, so it runs under no_grad (reconstruct re-enables grad for it).
        grad_free = torch.no_grad() if method == "gram" else torch.inference_mode()
        with grad_free:
            return self._transfer(
                content, style, content_mask, style_mask, layers, method, style_weight,
                iterations, options,
            )  # fmt: skip

    def _transfer(
        self,
        content: torch.Tensor,
        style: torch.Tensor,
        content_mask: torch.Tensor | None,
        style_mask: torch.Tensor | None,
        layers: Sequence[str],
        method: Method,
        style_weight: float,
        iterations: int,
        options: dict,
    ) -> TransferResult:
        seconds = {"encode": 0.0, "reconstruct": 0.0, "decode": 0.0}
        features, reconstructions = {}, {}
        image = content
        for layer in layers:
            start = time.perf_counter()
            if image.shape == style.shape:  # one batched pass for content and style
                c_feat, s_feat = self._encode(torch.cat([image, style]), layer).chunk(2)
            else:
                c_feat, s_feat = self._encode(image, layer), self._encode(style, layer)
            seconds["encode"] += time.perf_counter() - start
            c_mask = s_mask = None
            if content_mask is not None:
                c_mask = resize_labels(content_mask, tuple(c_feat.shape[-2:]))
                s_mask = resize_labels(style_mask, tuple(s_feat.shape[-2:]))
            start = time.perf_counter()
            result = self.reconstruct(
                c_feat, s_feat, c_mask, s_mask, method, style_weight, iterations, **options
            )
            seconds["reconstruct"] += time.perf_counter() - start
            start = time.perf_counter()
            image = self._decode(layer, result.feature)
            seconds["decode"] += time.perf_counter() - start
            features[layer], reconstructions[layer] = result.feature, result
        seconds["total"] = sum(seconds.values())
        last = reconstructions[layers[-1]]
        snapshots = {t: self._decode(layers[-1], f) for t, f in last.snapshots.items()}
        provenance = (
            f"fast semantic style transfer, {method}, layers {tuple(layers)}, "
            f"lambda {style_weight:g}, {iterations} iterations; {self.provenance}"
        )
        return TransferResult(image, features, reconstructions, seconds, provenance, snapshots)

    def _decode(self, layer: str, feature: torch.Tensor) -> torch.Tensor:
        """``g(F)`` clamped to [0, 1], returned in the contiguous (NCHW) layout."""
        if self.channels_last:
            feature = feature.contiguous(memory_format=torch.channels_last)
        image = self.decoders[layer](feature).clamp_(0.0, 1.0)
        return image.contiguous()

    def _encode(self, image: torch.Tensor, layer: str) -> torch.Tensor:
        """VGG19 up to ``layer`` only (the encoder may hold deeper layers for other stages)."""
        if self.channels_last:
            image = image.contiguous(memory_format=torch.channels_last)
        if self.encoder.layers == (layer,):
            return self.encoder(image)[layer]
        self.encoder._check_input(image)
        h = (image - self.encoder.mean) / self.encoder.std
        for module in self.encoder.features[: VGG19_LAYERS[layer] + 1]:
            h = module(h)
        return h


def two_style_transfer(
    pipeline: FastSemanticStyleTransfer,
    content: torch.Tensor,
    style_a: torch.Tensor,
    style_b: torch.Tensor,
    guide: torch.Tensor,
    **options,
) -> TransferResult:
    """Two styles in one image (Fig. 9, row 1): content positions with ``guide == 0`` take
    the statistics of the whole of ``style_a``, those with ``guide == 1`` of ``style_b``.

    The two styles are placed side by side as ONE style image ``[B, 3, H, 2W]`` whose label
    map is 0 on ``style_a`` and 1 on ``style_b``; the region-wise reconstruction then pairs
    guide 0 with ``style_a`` and guide 1 with ``style_b`` exactly (it only uses region
    statistics, so the seam between the two halves changes nothing but the two or three
    border columns of each half at the feature's resolution). ``guide`` is ``[B, H, W]``
    with values in {0, 1}; ``options`` go to the pipeline.
    """
    if style_a.shape != style_b.shape:
        raise ValueError(
            f"style_a {tuple(style_a.shape)} and style_b {tuple(style_b.shape)} differ in shape"
        )
    if guide.dtype.is_floating_point or int(guide.max()) > 1 or int(guide.min()) < 0:
        raise ValueError("guide must be an integer map [B, H, W] of 0 (style_a) and 1 (style_b)")
    both = torch.cat([style_a, style_b], -1)
    half = torch.zeros(style_a.shape[0], *style_a.shape[-2:], dtype=torch.long)
    both_mask = torch.cat([half, torch.ones_like(half)], -1)
    return pipeline(content, both, guide.long(), both_mask, **options)
