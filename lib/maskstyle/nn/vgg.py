"""VGG19 feature slices: the fixed encoder of every paper in the workbook.

Gatys et al. define style and content by the activations of an ImageNet-trained VGG19
(Simonyan & Zisserman 2015); AdaIN, style-swap, LRNet's encoder and fast semantic style
transfer all reuse it as a frozen encoder ``phi`` and read features at named layers,

    phi_l(x) = relu_l( conv_l( ... relu1_1( conv1_1( (x - mu) / sigma ) ) ) ),

with ``mu = (0.485, 0.456, 0.406)``, ``sigma = (0.229, 0.224, 0.225)`` the ImageNet
channel statistics torchvision's VGG19 was trained with (pytorch-AdaIN's Caffe port folds
the same normalisation into a 1x1 first conv; torchvision's model needs it on the input).

The slices follow pytorch-AdaIN: ``relu1_1`` ends at index 1 of torchvision's
``vgg19().features``, ``relu2_1`` at 6, ``relu3_1`` at 11, ``relu4_1`` at 20, ``relu5_1``
at 29 (:data:`VGG19_LAYERS` names every conv/relu/pool up to ``relu5_1``). Unlike that
port, padding is torchvision's zero padding, not reflection padding, because these are the
padding conditions the ImageNet weights were trained under.

All requested layers come from one forward pass that stops at the deepest of them.
The module is frozen (``requires_grad=False``, eval mode) but differentiable with respect to
its input, which is what Gatys' image optimisation and every perceptual loss need.

Weights: ``"imagenet"`` (torchvision's ``VGG19_Weights.IMAGENET1K_V1`` from the torch hub
cache, never downloaded), a path to a state dict, or ``"random"``: Kaiming-normal
initialisation from a private ``torch.Generator`` seeded by ``seed``. Random VGG features
are NOT the papers' features; they exist so that code paths and shapes can be tested
without the 548 MB checkpoint, and :attr:`VGG19Features.provenance` says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from maskstyle.nn.weights import (
    WeightsNotFoundError,
    check_file_hash,
    file_provenance,
    hub_checkpoint_path,
    load_state_dict_file,
    require_file,
)

VGG19_IMAGENET_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
"""torchvision's ``VGG19_Weights.IMAGENET1K_V1.url``."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# (channels, convs) per block of VGG19 (configuration "E").
_BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))
_DEEPEST = "relu5_1"


def _layer_tables() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Name -> torchvision index, channels and downsampling factor, up to relu5_1."""
    index: dict[str, int] = {}
    channels: dict[str, int] = {}
    stride: dict[str, int] = {}
    i, factor = 0, 1
    for block, (width, convs) in enumerate(_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            for kind in ("conv", "relu"):
                name = f"{kind}{block}_{conv}"
                index[name], channels[name], stride[name] = i, width, factor
                i += 1
                if name == _DEEPEST:
                    return index, channels, stride
        factor *= 2
        name = f"pool{block}"
        index[name], channels[name], stride[name] = i, width, factor
        i += 1
    raise AssertionError("unreachable: relu5_1 is in block 5")


VGG19_LAYERS, _CHANNELS, _DOWNSAMPLING = _layer_tables()
"""``VGG19_LAYERS``: ordered layer name -> index in torchvision's ``vgg19().features``
(``conv1_1``: 0, ``relu1_1``: 1, ..., ``pool1``: 4, ..., ``relu5_1``: 29)."""

DEFAULT_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
"""AdaIN's style layers (its content layer is relu4_1)."""


def _check_layer(layer: str) -> None:
    if layer not in VGG19_LAYERS:
        raise ValueError(
            f"unknown VGG19 layer {layer!r}; valid names (torchvision order): "
            f"{', '.join(VGG19_LAYERS)}"
        )


def vgg19_channels(layer: str) -> int:
    """Number of channels of ``layer``'s output (``relu3_1`` -> 256)."""
    _check_layer(layer)
    return _CHANNELS[layer]


def vgg19_downsampling(layer: str) -> int:
    """Spatial downsampling factor of ``layer`` w.r.t. the input (``relu3_1`` -> 4)."""
    _check_layer(layer)
    return _DOWNSAMPLING[layer]


def imagenet_weights_path() -> Path:
    """Where the ImageNet VGG19 file is looked for: ``torch.hub.get_dir()/checkpoints/...``."""
    return hub_checkpoint_path(VGG19_IMAGENET_URL)


def _build_layers(deepest: int, tapped: set[int]) -> nn.Sequential:
    """torchvision's VGG19 ``features[:deepest + 1]``, uninitialised (no global RNG use)."""
    layers: list[nn.Module] = []
    in_ch = 3
    with torch.device("meta"):
        for name, i in VGG19_LAYERS.items():
            if i > deepest:
                break
            if name.startswith("conv"):
                layers.append(nn.Conv2d(in_ch, _CHANNELS[name], kernel_size=3, padding=1))
                in_ch = _CHANNELS[name]
            elif name.startswith("relu"):
                # In place only where the conv output it overwrites is not returned.
                layers.append(nn.ReLU(inplace=(i - 1) not in tapped))
            else:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers).to_empty(device="cpu")


def _conv_indices(features: nn.Sequential) -> list[int]:
    return [i for i, m in enumerate(features) if isinstance(m, nn.Conv2d)]


def _init_random(features: nn.Sequential, seed: int) -> None:
    """torchvision's VGG init (Kaiming normal, fan_out, zero bias) from a private generator."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for i in _conv_indices(features):
            conv = features[i]
            nn.init.kaiming_normal_(
                conv.weight, mode="fan_out", nonlinearity="relu", generator=generator
            )
            conv.bias.zero_()


def _load_features(features: nn.Sequential, state: dict[str, torch.Tensor], source: str) -> None:
    """Copy ``features.N.*`` (whole-model keys) or ``N.*`` (features-only keys) into place."""
    if any(k.startswith("features.") for k in state):
        state = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    needed = {}
    for i in _conv_indices(features):
        for part in ("weight", "bias"):
            needed[f"{i}.{part}"] = getattr(features[i], part)
    missing = [k for k in needed if k not in state]
    if missing:
        raise ValueError(
            f"{source} is not a torchvision vgg19 state dict for these layers: missing "
            f"{', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}. Expected keys "
            "'features.N.weight'/'features.N.bias' (whole model) or 'N.weight'/'N.bias' "
            "(features only), N = torchvision's vgg19().features index."
        )
    with torch.no_grad():
        for key, param in needed.items():
            value = state[key]
            if tuple(value.shape) != tuple(param.shape):
                raise ValueError(
                    f"{source}: {key} has shape {tuple(value.shape)}, VGG19 needs "
                    f"{tuple(param.shape)}; is this a VGG19 (not VGG16 or a BN variant)?"
                )
            param.copy_(value.to(param.dtype))


class VGG19Features(nn.Module):
    """Frozen VGG19 returning ``{layer: feature}`` for the requested layers in one pass.

    Input: ``[B, 3, H, W]`` float RGB in ``[0, 1]``; ImageNet normalisation happens inside.
    Values far outside ``[0, 1]`` (say 0..255, or an already-normalised image) trigger a
    warning; small excursions, as during Gatys' pixel optimisation, are allowed.
    """

    def __init__(
        self,
        layers: Sequence[str] = DEFAULT_LAYERS,
        weights: str | Path = "imagenet",
        seed: int = 0,
        requires_grad: bool = False,
        check_range: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(layers, str):
            layers = (layers,)
        layers = tuple(layers)
        if not layers:
            raise ValueError("layers must name at least one VGG19 layer, e.g. ('relu4_1',)")
        for layer in layers:
            _check_layer(layer)
        if len(set(layers)) != len(layers):
            raise ValueError(f"layers contains duplicates: {layers}")
        self.layers = layers
        self.check_range = check_range
        self._taps = {VGG19_LAYERS[name]: name for name in layers}
        deepest = max(self._taps)
        self.features = _build_layers(deepest, set(self._taps))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

        if isinstance(weights, str) and weights == "random":
            _init_random(self.features, seed)
            self.weights_kind = "random"
            self.provenance = (
                f"VGG19: random init (Kaiming normal, seed {seed}) - NOT the papers' "
                "ImageNet weights"
            )
        elif isinstance(weights, str) and weights == "imagenet":
            path = require_file(imagenet_weights_path(), VGG19_IMAGENET_URL, "ImageNet VGG19")
            digest = check_file_hash(path)
            _load_features(self.features, load_state_dict_file(path), str(path))
            self.weights_kind = "imagenet"
            self.provenance = (
                f"VGG19: ImageNet (torchvision VGG19_Weights.IMAGENET1K_V1, {path}, "
                f"sha256 {digest[:12]})"
            )
        elif isinstance(weights, str | Path):
            path = require_file(weights, None, "VGG19 weights")
            digest = check_file_hash(path)
            _load_features(self.features, load_state_dict_file(path), str(path))
            self.weights_kind = "file"
            self.provenance = f"VGG19: {file_provenance(path)}"
            if digest.startswith(Path(VGG19_IMAGENET_URL).stem.rsplit("-", 1)[1]):
                self.provenance += " = torchvision VGG19_Weights.IMAGENET1K_V1"
        else:
            raise TypeError(
                f"weights must be 'imagenet', 'random' or a path, got {type(weights).__name__}"
            )
        self.seed = seed if self.weights_kind == "random" else None
        self.requires_grad_(requires_grad)
        self.eval()

    @staticmethod
    def channels(layer: str) -> int:
        """Channels of ``layer`` (``relu3_1`` -> 256)."""
        return vgg19_channels(layer)

    @staticmethod
    def downsampling(layer: str) -> int:
        """Downsampling factor of ``layer`` (``relu3_1`` -> 4)."""
        return vgg19_downsampling(layer)

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"VGG19Features expects a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 4:
            hint = " (a single image: add the batch axis with x[None])" if x.dim() == 3 else ""
            raise ValueError(
                f"VGG19Features expects images [B, 3, H, W], got shape {tuple(x.shape)}{hint}"
            )
        if x.shape[1] != 3:
            hint = ""
            if x.shape[1] == 1:
                hint = " (grayscale: repeat it, x.expand(-1, 3, -1, -1))"
            elif x.shape[-1] == 3:
                hint = " (channels-last: use x.permute(0, 3, 1, 2))"
            raise ValueError(
                f"VGG19Features expects 3 RGB channels in dim 1, got shape {tuple(x.shape)}{hint}"
            )
        if not x.dtype.is_floating_point:
            raise TypeError(
                f"VGG19Features expects float images in [0, 1], got {x.dtype}; "
                "convert uint8 images with x.float() / 255"
            )
        factor = _DOWNSAMPLING[self._taps[max(self._taps)]]
        if min(x.shape[-2:]) < factor:
            raise ValueError(
                f"images of size {tuple(x.shape[-2:])} are too small for layer "
                f"{self._taps[max(self._taps)]} (downsampling /{factor})"
            )
        if self.check_range and x.numel():
            lo, hi = torch.aminmax(x.detach())
            lo, hi = float(lo), float(hi)
            if lo < -0.5 or hi > 1.5 or math.isnan(lo) or math.isnan(hi):
                warnings.warn(
                    f"VGG19Features input spans [{lo:.3g}, {hi:.3g}]; it expects RGB in [0, 1] "
                    "and normalises internally (divide 0..255 images by 255, do not "
                    "ImageNet-normalise them yourself)",
                    stacklevel=3,
                )

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x [B, 3, H, W]`` in ``[0, 1]`` -> ``{layer: [B, C_l, H / s_l, W / s_l]}``."""
        self._check_input(x)
        h = (x - self.mean) / self.std
        found: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in self._taps:
                found[self._taps[i]] = h
        return {name: found[name] for name in self.layers}

    def extra_repr(self) -> str:
        return f"layers={self.layers}, {self.provenance}"


__all__ = [
    "DEFAULT_LAYERS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "VGG19Features",
    "VGG19_IMAGENET_URL",
    "VGG19_LAYERS",
    "WeightsNotFoundError",
    "imagenet_weights_path",
    "vgg19_channels",
    "vgg19_downsampling",
]
