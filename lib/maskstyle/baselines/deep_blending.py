"""Deep image blending (Zhang, Wen & Shi 2020, WACV), the fourth baseline of LRNet's Table 1.

Deep image blending pastes a source region onto a target by *optimising the pixels* of
the blended region. With the hard mask ``m`` and the pixels ``z`` being optimised, the
blend is the composite ``x = m * z + (1 - m) * x_B`` (outside the mask it is exactly the
target), and the first stage minimises

    L(z) = w_grad L_grad + w_content L_content + w_style L_style + w_tv L_tv

- **Poisson gradient loss** (their Eq. 4, the "Poisson blending loss"): the Laplacian of
  the blend must match the composite of the source's Laplacian inside the mask and the
  target's outside,
  ``L_grad = mean( (lap(x) - [m lap(x_A) + (1 - m) lap(x_B)])^2 )``, with the 3x3
  Laplacian ``[[0, -1, 0], [-1, 4, -1], [0, -1, 0]]`` per channel (zero padding);
- **content loss**: VGG features of the masked blend vs the masked source,
  ``mean( (F(m x) - F(m x_A))^2 )`` at ``relu2_2``;
- **style loss**: Gram matrices (:func:`maskstyle.nn.gram.gram_matrix`, normalised by
  ``H W``) of the blend vs the target, ``sum_l mean( (G_l(x) - G_l(x_B))^2 )`` over
  ``relu1_2, relu2_2, relu3_3, relu4_3``;
- **total variation**: ``sum |x_{i,j+1} - x_{i,j}| + |x_{i+1,j} - x_{i,j}|``.

Weights are those of the authors' code for the first stage: gradient 1e4, style 1e4,
content 1, TV 1e-6. Their second stage (a style refinement of the whole blended image) is
**not** built: this is the first stage only. Differences from the original, stated:
VGG19 (:class:`maskstyle.nn.vgg.VGG19Features`; the authors use VGG16, same layer names),
whose weights here are random unless ImageNet weights are in the torch hub cache (the
``provenance`` says which); Adam by default (their L-BFGS is available, here with a
strong-Wolfe line search); ``z`` starts from the source (``init="source"``; theirs starts
from noise, ``init="noise"``) because the run is time-capped: it stops after ``max_iters``
iterations or once ``max_seconds`` have passed (LRNet's text: "< 50 seconds to
completion"), and reports both counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from maskstyle.nn.gram import gram_matrix
from maskstyle.utils.shapes import expect_shape

CONTENT_LAYER = "relu2_2"
STYLE_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
DEFAULT_MAX_SECONDS = 50.0
"""LRNet, Section 5.3: deep blending takes "< 50 seconds to completion" per image."""
ENCODER_LAYERS: tuple[str, ...] = tuple(dict.fromkeys([CONTENT_LAYER, *STYLE_LAYERS]))
"""The VGG19 layers an encoder for :func:`deep_image_blending` must return."""
LAPLACIAN = ((0.0, -1.0, 0.0), (-1.0, 4.0, -1.0), (0.0, -1.0, 0.0))


@dataclass(frozen=True)
class DeepBlendWeights:
    """Loss weights of the first stage (the authors' code)."""

    grad: float = 1e4
    content: float = 1.0
    style: float = 1e4
    tv: float = 1e-6


@dataclass
class DeepBlendResult:
    """``image [B, 3, H, W]`` (composited: the target outside the mask), the weighted loss
    terms per evaluation (one per Adam iteration; L-BFGS's line search may add some), the
    number of iterations run, the wall time and provenance."""

    image: torch.Tensor
    losses: dict[str, list[float]] = field(default_factory=dict)
    iterations: int = 0
    seconds: float = 0.0
    provenance: str = ""


def laplacian(images: torch.Tensor) -> torch.Tensor:
    """Per-channel 3x3 Laplacian ``4 x - (up + down + left + right)``, zero padding."""
    c = images.shape[1]
    kernel = torch.tensor(LAPLACIAN, dtype=images.dtype, device=images.device)
    return F.conv2d(images, kernel.expand(c, 1, 3, 3), padding=1, groups=c)


def poisson_gradient_loss(
    blend: torch.Tensor, source: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``mean((lap(blend) - [m lap(source) + (1 - m) lap(target)])^2)``; ``mask [B, 1, H, W]``."""
    guide = mask * laplacian(source) + (1 - mask) * laplacian(target)
    return (laplacian(blend) - guide).square().mean()


def content_loss(feat: torch.Tensor, feat_source: torch.Tensor) -> torch.Tensor:
    """``mean((F(m x) - F(m x_A))^2)`` at the content layer."""
    return (feat - feat_source).square().mean()


def style_loss(feats: Sequence[torch.Tensor], feats_target: Sequence[torch.Tensor]):
    """``sum_l mean((G_l(x) - G_l(x_B))^2)`` with ``G = F F^T / (H W)``."""
    return sum(
        (gram_matrix(f) - gram_matrix(t)).square().mean() for f, t in zip(feats, feats_target)
    )


def tv_loss(images: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation ``sum |dx| + |dy|`` (summed over the batch;
    :func:`maskstyle.nn.total_variation` with ``p=1``)."""
    from maskstyle.nn.total_variation import total_variation

    return total_variation(images, p=1, reduction="sum")


def _check(source: torch.Tensor, target: torch.Tensor, mask: torch.Tensor):
    for name, img in (("source", source), ("target", target)):
        expect_shape(img, ["B", 3, "H", "W"], name, what="images", hint=" (values in [0, 1])")
    if source.shape != target.shape:
        raise ValueError(
            f"source {tuple(source.shape)} and target {tuple(target.shape)} must have the same "
            "shape: deep blending needs an aligned pair (resize or warp one first)"
        )
    if mask.dim() == 2:
        mask = mask[None]
    if tuple(mask.shape) != (source.shape[0], *source.shape[-2:]):
        raise ValueError(
            f"mask shape {tuple(mask.shape)} does not match the images {tuple(source.shape)}: "
            "give a foreground mask [B, H, W] at the image size"
        )
    empty = ~mask.flatten(1).bool().any(1)
    if bool(empty.any()):
        raise ValueError(
            f"the mask is empty for sample(s) {empty.nonzero()[:, 0].tolist()}: there is no "
            "region to blend - check the mask or the selected regions"
        )
    return mask[:, None].to(source.dtype)


def deep_image_blending(
    source: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    encoder: torch.nn.Module | None = None,
    weights: str = "random",
    seed: int = 0,
    max_iters: int = 200,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    optimizer: str = "adam",
    lr: float | None = None,
    init: str = "source",
    loss_weights: DeepBlendWeights = DeepBlendWeights(),
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> DeepBlendResult:
    """First stage of deep image blending of ``source``'s ``mask`` region onto ``target``.

    ``source``/``target`` ``[B, 3, H, W]`` in [0, 1] (aligned), ``mask`` bool ``[B, H, W]``.
    ``encoder``: a :class:`~maskstyle.nn.vgg.VGG19Features` returning the content and
    style layers (built from ``weights``/``seed`` if ``None``). Stops after ``max_iters``
    iterations or when ``max_seconds`` have passed (checked before each iteration; 0 runs
    none). ``lr`` defaults to 0.02 (Adam) or 1 (L-BFGS). ``init``: ``"source"`` or
    ``"noise"`` (seeded). Gradients are enabled inside, whatever the caller's mode.
    """
    m = _check(source, target, mask)
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {optimizer!r}")
    if init not in ("source", "noise"):
        raise ValueError(f"init must be 'source' or 'noise', got {init!r}")
    if not isinstance(max_iters, int) or max_iters < 0:
        raise ValueError(f"max_iters must be an int >= 0, got {max_iters!r}")
    layers = ENCODER_LAYERS
    if encoder is None:
        from maskstyle.nn.vgg import VGG19Features

        encoder = VGG19Features(layers, weights=weights, seed=seed)
    absent = [layer for layer in layers if layer not in getattr(encoder, "layers", ())]
    if absent:
        raise ValueError(
            f"encoder does not return layers {absent}; build it with "
            f"VGG19Features(layers={layers!r}, ...)"
        )
    start = time.perf_counter()
    w = loss_weights
    with torch.enable_grad():
        with torch.no_grad():
            content_target = encoder(m * source)[CONTENT_LAYER]
            style_target = encoder(target)
            style_target = [style_target[layer] for layer in STYLE_LAYERS]
        if init == "source":
            z = source.detach().clone()
        else:
            gen = torch.Generator().manual_seed(seed)
            z = torch.rand(source.shape, generator=gen).to(source)
        z.requires_grad_(True)
        if optimizer == "adam":
            opt = torch.optim.Adam([z], lr=0.02 if lr is None else lr)
        else:
            opt = torch.optim.LBFGS(
                [z], lr=1.0 if lr is None else lr, max_iter=1, line_search_fn="strong_wolfe"
            )
        history: dict[str, list[float]] = {k: [] for k in ("grad", "content", "style", "tv")}

        def closure() -> torch.Tensor:
            opt.zero_grad()
            blend = m * z + (1 - m) * target
            feats = encoder(blend.clamp(0, 1))
            masked = encoder(m * blend)[CONTENT_LAYER]
            terms = {
                "grad": w.grad * poisson_gradient_loss(blend, source, target, m),
                "content": w.content * content_loss(masked, content_target),
                "style": w.style * style_loss([feats[lyr] for lyr in STYLE_LAYERS], style_target),
                "tv": w.tv * tv_loss(blend),
            }
            loss = sum(terms.values())
            loss.backward()
            for key, value in terms.items():
                history[key].append(float(value.detach()))
            return loss

        iterations = 0
        while iterations < max_iters and time.perf_counter() - start < max_seconds:
            opt.step(closure)
            with torch.no_grad():
                z.clamp_(0.0, 1.0)
            iterations += 1
            if callback is not None:
                callback(iterations, z.detach())
    with torch.no_grad():
        image = m * z.detach().clamp(0, 1) + (1 - m) * target
    seconds = time.perf_counter() - start
    provenance = (
        f"deep image blending (Zhang et al. 2020), first stage only, {optimizer}, init "
        f"{init}, {iterations} iterations in {seconds:.2f} s (caps: {max_iters} iterations, "
        f"{max_seconds:g} s); {getattr(encoder, 'provenance', type(encoder).__name__)}"
    )
    return DeepBlendResult(image, history, iterations, seconds, provenance)


class DeepBlending:
    """The deep blending baseline as ``fn(x_a, x_b, fg) -> blend`` for LRNet's evaluation.

    Holds one VGG19 (``weights``, ``seed``) and the caps; :attr:`last` keeps the last
    :class:`DeepBlendResult` (iterations run, seconds).
    """

    def __init__(
        self,
        weights: str = "random",
        seed: int = 0,
        max_iters: int = 200,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        optimizer: str = "adam",
        lr: float | None = None,
        init: str = "source",
        encoder: torch.nn.Module | None = None,
    ) -> None:
        if encoder is None:
            from maskstyle.nn.vgg import VGG19Features

            encoder = VGG19Features(ENCODER_LAYERS, weights=weights, seed=seed)
        self.encoder, self.seed = encoder, seed
        self.max_iters, self.max_seconds = max_iters, max_seconds
        self.optimizer, self.lr, self.init = optimizer, lr, init
        self.last: DeepBlendResult | None = None
        self.provenance = (
            f"deep image blending, first stage, at most {max_iters} iterations / "
            f"{max_seconds:g} s, {optimizer}; {getattr(encoder, 'provenance', '')}"
        )

    def __call__(self, x_a: torch.Tensor, x_b: torch.Tensor, fg: torch.Tensor) -> torch.Tensor:
        squeeze = x_a.dim() == 3
        a, b = (x_a[None], x_b[None]) if squeeze else (x_a, x_b)
        mask = fg[None] if fg.dim() == 2 else fg
        self.last = deep_image_blending(
            a, b, mask.bool(), encoder=self.encoder, seed=self.seed, max_iters=self.max_iters,
            max_seconds=self.max_seconds, optimizer=self.optimizer, lr=self.lr, init=self.init,
        )  # fmt: skip
        return self.last.image[0] if squeeze else self.last.image
