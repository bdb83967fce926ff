"""Table 1 of LRNet (Section 5.3), and what the paper could not measure.

The paper compares alpha, Poisson, style and deep blending with LRNet by a user study,
the time per image and FID over its validation set. On the face world every pair has a
ground truth "A blended onto B" (``target``), so :func:`evaluate_blending` also reports
PSNR and SSIM against it. FID here compares each method's blends with the ground-truth
blends of the same validation pairs (the paper's reference set is not stated); with a few
dozen images it is strongly biased (see :mod:`maskstyle.metrics.frechet`) and is only
comparable between methods of one run, never with the paper's value.

Times are per image (batch 1), median over the validation pairs, measured in this process.

Real pairs without a ground truth (CelebAMask-HQ, FPB rows without ``target``): PSNR and
SSIM are :class:`~maskstyle.workbook.Missing` with the reason, and FID compares each
method's blends with the real target faces ``x_B`` of the same pairs (column
``fid_reference`` says which reference was used). Deep image blending
(:class:`~maskstyle.baselines.deep_blending.DeepBlending`, time-capped) joins the methods
as ``"deep"`` when :func:`baseline_methods` is given one. :func:`degraded_truths` gives two
oracle rows (the ground truth blurred, or recoloured, inside the face) that show which kind
of error FID punishes.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

BlendFn = Callable[[dict[str, torch.Tensor]], torch.Tensor]


def baseline_methods(
    model: Any,
    style: Any,
    use_coords: bool = True,
    poisson_mode: str = "normal",
    deep: Any | None = None,
) -> dict[str, BlendFn]:
    """``{name: fn(batch) -> blend}`` for alpha, Poisson, style blending, deep blending
    (only when ``deep``, a ``fn(x_a, x_b, fg)`` such as
    :class:`~maskstyle.baselines.deep_blending.DeepBlending`, is given) and LRNet.

    Every method blends LRNet's foreground (``model.foreground(regions_a)``) of A onto B.
    """
    from maskstyle.baselines.blending import alpha_blending, poisson_blending

    def fg(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return model.foreground(batch["regions_a"])

    def lrnet(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        coords = (batch["coords_a"], batch["coords_b"]) if use_coords else (None, None)
        return model(batch["x_a"], batch["x_b"], batch["regions_a"], batch["regions_b"], *coords)

    methods: dict[str, BlendFn] = {
        "alpha": lambda b: alpha_blending(b["x_a"], b["x_b"], fg(b)),
        "poisson": lambda b: poisson_blending(b["x_a"], b["x_b"], fg(b), mode=poisson_mode),
        "style": lambda b: style(b["x_a"], b["x_b"], fg(b)),
    }
    if deep is not None:
        methods["deep"] = lambda b: deep(b["x_a"], b["x_b"], fg(b))
    methods["lrnet"] = lrnet
    return methods


def degraded_truths(
    model: Any, blur_sigma: float = 1.0, colour_gain: tuple[float, float, float] = (1.2, 1.0, 0.8)
) -> dict[str, BlendFn]:
    """Two oracle "methods" for :func:`evaluate_blending` that start from the ground truth
    and spoil only its face (``model.foreground``): ``truth_blurred`` (a Gaussian blur of
    ``blur_sigma`` px inside the face, LRNet's kind of error) and ``truth_recoloured`` (the
    face's RGB scaled by ``colour_gain``, clamped: alpha blending's kind of error, a wrong
    tone with sharp features). Side by side they show which error FID punishes more at a
    similar PSNR loss. Needs pairs with a ``target``."""
    from torchvision.transforms.functional import gaussian_blur

    if blur_sigma <= 0:
        raise ValueError(f"blur_sigma must be > 0 px, got {blur_sigma}")
    gain = torch.tensor(colour_gain, dtype=torch.float32).view(1, 3, 1, 1)
    kernel = 2 * math.ceil(3 * blur_sigma) + 1

    def truth(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        if "target" not in batch:
            raise ValueError("degraded_truths needs pairs with a ground truth ('target')")
        fg = model.foreground(batch["regions_a"]).to(batch["target"].dtype)
        if fg.dim() == 3:
            fg = fg[:, None]
        return batch["target"], fg

    def blurred(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        target, fg = truth(batch)
        return fg * gaussian_blur(target, [kernel, kernel], [blur_sigma, blur_sigma]) + (
            1 - fg) * target  # fmt: skip

    def recoloured(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        target, fg = truth(batch)
        return fg * (target * gain).clamp(0, 1) + (1 - fg) * target

    return {"truth_blurred": blurred, "truth_recoloured": recoloured}


def evaluate_blending(
    methods: Mapping[str, BlendFn],
    pairs: Any,
    fid_extractor: torch.nn.Module | None = None,
    compute_fid: bool = True,
    foreground: Callable[[dict[str, torch.Tensor]], torch.Tensor] | None = None,
) -> tuple[Any, dict[str, torch.Tensor]]:
    """Run every method on every pair; return ``(table, blends)``.

    ``pairs`` yields :class:`~maskstyle.models.lrnet.data.FaceWorldBlendPairs` samples (or
    the real pairs of :mod:`~maskstyle.models.lrnet.real_data`).
    ``table`` (a DataFrame, one row per method): ``time_s`` (median per image), ``psnr`` and
    ``ssim`` against the ground truth (means; :class:`~maskstyle.workbook.Missing` when the
    pairs have none), ``fid`` against the ground truths, or the real targets ``x_B`` without
    them (``NaN`` when ``compute_fid`` is False), ``fid_reference``; with ``foreground``
    (``fn(batch) -> [B, H, W]`` bool, the blended pixels) also ``psnr_face`` and
    ``psnr_background``: PSNR over the pixels inside / outside the foreground (Eq. 5 asks
    the background to be B's). ``blends[name]`` is ``[N, 3, H, W]``.
    """
    import pandas as pd

    from maskstyle.metrics import FIDMeter, psnr, ssim
    from maskstyle.metrics.masked import masked_psnr
    from maskstyle.models.lrnet.data import collate_pairs
    from maskstyle.workbook import Missing

    if len(pairs) < 1:
        raise ValueError("no pairs to evaluate")
    batches = [collate_pairs([pairs[i]]) for i in range(len(pairs))]
    with_target = sum("target" in b for b in batches)
    if 0 < with_target < len(batches):
        raise ValueError(
            f"{with_target} of {len(batches)} pairs have a ground-truth target: evaluate "
            "pairs that all have one, or none"
        )
    has_target = with_target == len(batches)
    no_target = None
    if not has_target:
        reason = getattr(pairs, "no_target_reason", None) or "the pairs have no ground truth"
        no_target = Missing(f"no ground truth to compare with: {reason}")
    targets = torch.cat([b["target"] if has_target else b["x_b"] for b in batches])
    reference = "ground-truth blends" if has_target else "real target faces x_B"
    fg = torch.cat([foreground(b) for b in batches]) if foreground is not None else None
    blends: dict[str, torch.Tensor] = {}
    rows = []
    meter = None
    if compute_fid:
        if len(batches) < 2:
            raise ValueError("FID needs at least 2 pairs")
        meter = FIDMeter(extractor=fid_extractor) if fid_extractor is not None else FIDMeter()
        meter.update(targets, real=True)
    for name, fn in methods.items():
        outs, times = [], []
        with torch.no_grad():
            for batch in batches:
                start = time.perf_counter()
                outs.append(fn(batch).clamp(0, 1))
                times.append(time.perf_counter() - start)
        blends[name] = torch.cat(outs)
        row = {
            "method": name,
            "time_s": statistics.median(times),
            "psnr": float(psnr(blends[name], targets)) if has_target else no_target,
            "ssim": float(ssim(blends[name], targets)) if has_target else no_target,
            "fid": float("nan"),
            "fid_reference": reference,
        }
        if fg is not None:
            for key, inside in (("psnr_face", True), ("psnr_background", False)):
                row[key] = (
                    float(masked_psnr(blends[name], targets, fg, inside=inside))
                    if has_target else no_target
                )  # fmt: skip
        if meter is not None:
            meter.reset(real=False)
            meter.update(blends[name], real=False)
            row["fid"] = meter.compute()
        rows.append(row)
    return pd.DataFrame(rows), blends


TABLE1_METHODS = ("alpha", "poisson", "style", "deep", "lrnet")
TABLE1_MEASURES = ("time_s", "psnr", "ssim", "fid", "psnr_face", "psnr_background")


def table1_metrics(table: Any) -> dict[str, float]:
    """The metrics of the ``table1`` entry of ``metrics.json``: ``"<method>.<measure>"`` for
    every row of :func:`evaluate_blending`'s table and every measure it holds as a number
    (PSNR/SSIM are :class:`~maskstyle.workbook.Missing` without a ground truth and left out;
    NaN FIDs too, and an infinite PSNR - a method that leaves the background exactly B's -
    which the table shows as ``inf``)."""
    metrics = {}
    for row in table.to_dict("records"):
        for measure in TABLE1_MEASURES:
            value = row.get(measure)
            # not Missing, not NaN, not an infinite PSNR (identical pixels: JSON has no inf)
            if isinstance(value, int | float) and math.isfinite(value):
                metrics[f"{row['method']}.{measure}"] = float(value)
    return metrics
