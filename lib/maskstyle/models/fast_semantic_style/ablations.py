"""The paper's ablations and comparisons as named pipeline settings (Figs. 8, 10, 11, 12;
linear vs Gram kernel; with vs without masks), shared by the ablation and metrics notebooks
so that both run exactly the same variants."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from maskstyle.models.fast_semantic_style.pipeline import FastSemanticStyleTransfer


def ablation_settings(
    layers: Sequence[str],
    style_weight: float = 1e8,
    iterations: int = 500,
    gram_style_weight: float = 1e4,
    gram_iterations: int = 100,
) -> dict[str, dict]:
    """``{title: pipeline keyword arguments}``; ``masks=False`` means run without label maps.

    ``layers`` are (in this order) the paper's default layer, the deeper one of Fig. 8 and
    the deepest of Fig. 12 (relu3_1, relu4_1, relu5_1).
    """
    if len(layers) != 3:
        raise ValueError(f"give three layers (default, deeper, deepest), got {list(layers)}")
    first, second, third = layers
    linear = {"style_weight": style_weight, "iterations": iterations}
    return {
        f"ours {first} (Fig. 8)": {"layers": first, **linear},
        f"ours {second} (Fig. 8)": {"layers": second, **linear},
        f"ours {third} (Fig. 12)": {"layers": third, **linear},
        f"{second} then {first} (Fig. 10)": {"layers": (second, first), **linear},
        f"patch swap {first} (Fig. 11)": {"layers": first, "method": "patch_swap"},
        f"Gram kernel {first}": {"layers": first, "method": "gram",
                                 "style_weight": gram_style_weight, "iterations": gram_iterations},
        f"no masks {first}": {"layers": first, "masks": False, **linear},
    }  # fmt: skip


def run_setting(
    pipeline: FastSemanticStyleTransfer,
    setting: dict,
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor,
    style_mask: torch.Tensor,
) -> torch.Tensor:
    """The stylised images ``[B, 3, H, W]`` of one :func:`ablation_settings` entry."""
    options = dict(setting)
    masks = options.pop("masks", True)
    cm, sm = (content_mask, style_mask) if masks else (None, None)
    return pipeline(content, style, cm, sm, **options).image.clone()


def lambda_tradeoff(
    pipeline: FastSemanticStyleTransfer,
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor,
    style_mask: torch.Tensor,
    lambdas: Sequence[float],
    layer: str = "relu3_1",
    iterations: int = 500,
) -> tuple[list[dict[str, float]], list[torch.Tensor]]:
    """What the style weight ``lambda`` of Eq. 3 trades, over a batch of pairs: one row per
    ``lambda`` with every reading of :func:`maskstyle.metrics.stylisation.stylisation_scores`
    (colour moved toward the style, structure kept), and the decoded outputs ``[B, 3, H, W]``
    of each ``lambda`` in the same order.

    ``lambda = 0`` is the content through the encoder and decoder (no transfer), the row that
    the others are read against.
    """
    from maskstyle.metrics.stylisation import stylisation_scores
    from maskstyle.nn.vgg import vgg19_downsampling

    if not lambdas:
        raise ValueError("give at least one lambda, e.g. [1e6, 1e7, 1e8]")
    if any(lam < 0 for lam in lambdas):
        raise ValueError(f"lambdas must be >= 0, got {list(lambdas)}")
    cell_pixels = vgg19_downsampling(layer) ** 2
    rows, images = [], []
    for lam in lambdas:  # a handful of values: each is one batched pipeline call
        out = pipeline(
            content, style, content_mask, style_mask,
            layers=layer, style_weight=float(lam), iterations=iterations,
        ).image  # fmt: skip
        scores = stylisation_scores(out, content, style, content_mask, style_mask, cell_pixels)
        rows.append({"lambda": float(lam), **scores})
        images.append(out)
    return rows, images
