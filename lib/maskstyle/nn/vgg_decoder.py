"""A decoder ``g(F; theta)`` that inverts VGG19 features at one relu layer.

Fast semantic style transfer (Lu et al. 2017, Sec. 3.2), style-swap (Chen & Schmidt 2016)
and AdaIN (Huang & Belongie 2017) decode a feature map back to an image with a network that
mirrors the VGG19 encoder up to the chosen layer: every 3x3 conv of the encoder becomes a
3x3 conv in reverse order (channels mapped back), every max-pool becomes a 2x nearest
upsampling, convs use reflection padding (no border artefacts), every conv is followed by a
ReLU except the last, which outputs RGB. For ``relu4_1`` this is exactly AdaIN's decoder::

    512 -> 256, up, 256 -> 256 (x3), 256 -> 128, up, 128 -> 128, 128 -> 64, up, 64 -> 64, 64 -> 3

It is trained so that the encoder reproduces its input, ``f(g(F)) ~ F`` (Eq. 6; see
:mod:`maskstyle.models.fast_semantic_style.training`). The output is not squashed; clamp it
to ``[0, 1]`` to display.

**Input scale.** ``input_scale`` (a buffer saved with the weights, default 1) multiplies the
feature before the first conv. VGG19 features are small (with the random Kaiming-initialised
encoder used here their root mean square is about 0.07-0.19 at relu1_1..relu5_1 on face
images), so with PyTorch's default conv init the untrained decoder's output starts near
zero and training spends its first hundreds of steps scaling up; training sets
``input_scale = 1 / RMS(F)`` of its first batch (:func:`maskstyle.models.fast_semantic_style.
training.train_decoder`), a fixed normalisation, not a learned parameter.

Any ``relu{block}_{index}`` layer of VGG19 up to ``relu5_1`` works, so LRNet's style-blending
baseline (AdaIN at ``relu4_1``) can reuse it.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from maskstyle.nn.vgg import VGG19_LAYERS, vgg19_channels, vgg19_downsampling

_RELU = re.compile(r"^relu(\d)_(\d)$")


def _convs_in_block(block: int) -> int:
    return sum(1 for name in VGG19_LAYERS if name.startswith(f"conv{block}_"))


def _parse_layer(layer: str) -> tuple[int, int]:
    match = _RELU.match(layer) if isinstance(layer, str) else None
    if match is None or layer not in VGG19_LAYERS:
        relus = [name for name in VGG19_LAYERS if name.startswith("relu")]
        raise ValueError(f"VGGDecoder inverts a VGG19 relu layer, one of {relus}; got {layer!r}")
    return int(match.group(1)), int(match.group(2))


def _conv(in_ch: int, out_ch: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(in_ch, out_ch, 3)]
    return layers + [nn.ReLU(inplace=True)] if relu else layers


class VGGDecoder(nn.Module):
    """Mirror of VGG19 up to ``layer``: ``[B, C_layer, h, w] -> [B, 3, h * s, w * s]``.

    ``seed`` makes the initial weights reproducible without touching the global RNG.
    ``provenance`` says what the weights are (set by training/loading code).
    """

    def __init__(self, layer: str = "relu3_1", seed: int = 0) -> None:
        super().__init__()
        block, index = _parse_layer(layer)
        self.layer = layer
        self.in_channels = vgg19_channels(layer)
        self.upsampling = vgg19_downsampling(layer)
        width = {j: vgg19_channels(f"relu{j}_1") for j in range(1, block + 1)}
        with torch.random.fork_rng(devices=[]):  # seeded init, global RNG untouched
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            for _ in range(index - 1):  # mirror of conv{block}_2 .. conv{block}_{index}
                layers += _conv(width[block], width[block])
            for j in range(block - 1, 0, -1):  # mirror of conv{j+1}_1, pool{j}, block j
                layers += _conv(width[j + 1], width[j])
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
                for _ in range(_convs_in_block(j) - 1):
                    layers += _conv(width[j], width[j])
            layers += _conv(width[1], 3, relu=False)  # mirror of conv1_1: back to RGB
        self.net = nn.Sequential(*layers)
        self.register_buffer("input_scale", torch.tensor(1.0))
        self.seed = seed
        self.provenance = f"VGGDecoder({layer}): random init, seed {seed} - untrained"
        # (VGG19 weights kind, seed) of the encoder it was trained against, when known
        self.trained_with: tuple[str | None, int | None] = (None, None)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        if not isinstance(feat, torch.Tensor) or feat.dim() != 4:
            shape = tuple(feat.shape) if isinstance(feat, torch.Tensor) else type(feat).__name__
            raise ValueError(f"VGGDecoder expects features [B, C, h, w], got {shape}")
        if feat.shape[1] != self.in_channels:
            raise ValueError(
                f"VGGDecoder({self.layer}) expects {self.in_channels} channels (VGG19 "
                f"{self.layer}), got {feat.shape[1]}: decode features of the layer it was "
                f"built for, or build VGGDecoder(layer=...) for the other layer"
            )
        return self.net(feat * self.input_scale)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # decoders saved before the input scale existed decode unscaled features
        state_dict.setdefault(prefix + "input_scale", torch.tensor(1.0))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return f"layer={self.layer!r}, {self.provenance}"
