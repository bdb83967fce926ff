"""Neural patch swap (style-swap, Chen & Schmidt 2016), optionally restricted to regions.

Every ``k x k`` patch of the content feature is replaced by the *most similar* ``k x k``
patch of the style feature, and the swapped patches are put back together:

    j*(i) = argmax_j  < phi_i(F_c), phi_j(F_s) > / || phi_j(F_s) ||
    F_o(p) = 1/|{i : p in phi_i}|  sum_{i : p in phi_i}  phi_{j*(i)}(F_s)[p]

``phi_i`` is the patch at position ``i``. Style-swap computes the similarities as a
convolution of ``F_c`` with the L2-normalised style patches as filters, takes a one-hot
argmax over the filter axis and rebuilds the feature with a transposed convolution whose
filters are the *raw* style patches, then divides by the transposed convolution of ones
(the number of patches overlapping each pixel). The content patch norm is the same for all
candidates, so it does not change the argmax and is not needed.

Here the similarity is the same number written as one matrix product of unfolded patches
(``[L_s, C k k] @ [C k k, L_c]``), and the transposed convolution of a one-hot map is
written as what it computes: gather the chosen raw patch for every position and ``fold``
(sum) them back, then divide by ``fold`` of ones. Both are exactly the style-swap
operations, minus the multiplications by zero.

**Regions** (semantic style transfer, Champandard 2016; LRNet's local reshuffle). With label
maps ``content_mask [B, H, W]`` and ``style_mask [B, H_s, W_s]`` at the features'
resolution, a patch belongs to the region of its *centre* pixel, and a content patch may
only take a style patch of the same region. Two exact strategies give identical matches:

- ``"per_region"`` (default): one matrix product per region between its content and its
  style patches; total cost ``sum_k M_k N_k`` similarities (a loop over the <= K regions,
  never over positions);
- ``"masked"``: all regions in one product, the similarity of every cross-region pair set
  to ``-inf`` before the argmax; cost ``M N``, i.e. ``K``-fold more work for balanced regions.

``benchmarks/bench_patch_swap.py`` measures both: on CPU at relu3_1 of 256 px (64 x 64,
9 regions) the per-region products are about 2.4x faster than the single masked product,
so they are the default; the masked form has no Python loop at all.

A content region that has no style patch (absent in the style, or too thin to hold a patch
centre) is handled by ``missing_region``:

- ``"content"`` (default): those positions keep their own content patch (no style there);
- ``"global"``: those positions match against every style patch, whatever its region;
- ``"error"``: raise ``ValueError`` naming the regions.

Positions not covered by any content patch (only possible with ``stride > 1`` when
``(H - k)`` is not a multiple of ``stride``) keep the content feature.
"""

from __future__ import annotations

import sys
import types
from typing import Literal

import torch
import torch.nn.functional as F

from maskstyle.nn.region_stats import check_content_style, check_feature_mask

MissingRegion = Literal["content", "global", "error"]
MISSING_REGION_MODES = ("content", "global", "error")
Strategy = Literal["per_region", "masked"]
STRATEGIES = ("per_region", "masked")


def _check_inputs(
    content: torch.Tensor,
    style: torch.Tensor,
    patch_size: int,
    stride: int,
    content_mask: torch.Tensor | None,
    style_mask: torch.Tensor | None,
    missing_region: str,
) -> None:
    check_content_style(content, style)
    if not isinstance(patch_size, int) or patch_size < 1:
        raise ValueError(f"patch_size must be a positive int, got {patch_size!r}")
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be a positive int, got {stride!r}")
    for name, feat in (("content", content), ("style", style)):
        if min(feat.shape[-2:]) < patch_size:
            raise ValueError(
                f"{name} feature {tuple(feat.shape[-2:])} is smaller than patch_size "
                f"{patch_size}: use a smaller patch or a larger image"
            )
    if (content_mask is None) != (style_mask is None):
        raise ValueError(
            "give both content_mask and style_mask (region-restricted swap) or neither "
            "(unrestricted swap)"
        )
    if content_mask is not None:
        if patch_size % 2 == 0:
            raise ValueError(
                f"region-restricted swap labels a patch by its centre pixel, so patch_size "
                f"must be odd, got {patch_size}"
            )
        check_feature_mask(content, content_mask, "content")
        check_feature_mask(style, style_mask, "style")
        for name, mask in (("content_mask", content_mask), ("style_mask", style_mask)):
            if mask.numel() and int(mask.min()) < 0:
                raise ValueError(
                    f"{name} holds negative labels ({int(mask.min())}); labels are >= 0"
                )
    if missing_region not in MISSING_REGION_MODES:
        raise ValueError(
            f"missing_region must be one of {MISSING_REGION_MODES}, got {missing_region!r}"
        )


def patch_labels(mask: torch.Tensor, patch_size: int, stride: int = 1) -> torch.Tensor:
    """Region label of every ``patch_size`` patch of ``mask [B, H, W]`` (its centre pixel).

    Returns ``[B, L]`` with ``L`` patches in ``F.unfold``'s row-major order.
    """
    half = patch_size // 2
    h, w = mask.shape[-2:]
    rows = slice(half, h - patch_size + half + 1, stride)
    cols = slice(half, w - patch_size + half + 1, stride)
    centres = mask[:, rows, cols]
    return centres.flatten(1)


def match_patches(
    content: torch.Tensor,
    style: torch.Tensor,
    patch_size: int = 3,
    stride: int = 1,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    missing_region: MissingRegion = "content",
    max_scores: int = 2**25,
    strategy: Strategy = "per_region",
) -> torch.Tensor:
    """Index of the best style patch for every content patch: ``[B, L_c]`` (int64).

    ``-1`` marks a content patch that keeps itself (``missing_region="content"``). Patch
    indices follow ``F.unfold``'s order on the style feature. See the module docstring
    (also for ``strategy``). ``max_scores`` bounds the number of similarity entries held at
    once (memory only).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    _check_inputs(content, style, patch_size, stride, content_mask, style_mask, missing_region)
    filters = F.normalize(F.unfold(style, patch_size, stride=stride), dim=1, eps=1e-8)
    content_patches = F.unfold(content, patch_size, stride=stride)  # [B, C k k, L_c]
    filters_t = filters.transpose(1, 2)  # [B, L_s, C k k]
    if content_mask is None:
        c_labels = s_labels = None
    else:
        c_labels = patch_labels(content_mask, patch_size, stride)  # [B, L_c]
        s_labels = patch_labels(style_mask, patch_size, stride)  # [B, L_s]
        num_labels = int(max(c_labels.max(), s_labels.max())) + 1
        in_style = s_labels.new_zeros(s_labels.shape[0], num_labels, dtype=torch.bool)
        in_style.scatter_(1, s_labels, True)
        has_match = in_style.gather(1, c_labels)  # [B, L_c]: some style patch shares the label
        if missing_region == "error" and not bool(has_match.all()):
            missing = sorted(set(c_labels[~has_match].tolist()))
            raise ValueError(
                f"content regions {missing} have no patch in the style mask (absent, or too "
                f"thin for a {patch_size}x{patch_size} patch centre): pass "
                "missing_region='content' to keep the content there or 'global' to match "
                "them against the whole style"
            )
    if c_labels is not None and strategy == "per_region":
        return _match_per_region(
            filters_t, content_patches, c_labels, s_labels, has_match, missing_region, max_scores
        )
    # The score matrix is [B, L_s, L_c]; bound its memory by matching content positions in
    # chunks (each chunk is one batched matrix product, all regions at once).
    num_style, num_content = filters_t.shape[1], content_patches.shape[2]
    chunk = max(1, max_scores // max(1, content.shape[0] * num_style))
    parts = []
    for start in range(0, num_content, chunk):
        stop = min(start + chunk, num_content)
        scores = torch.bmm(filters_t, content_patches[:, :, start:stop])  # [B, L_s, n]
        if c_labels is None:
            parts.append(scores.argmax(dim=1))
            continue
        same_region = s_labels[:, :, None] == c_labels[:, None, start:stop]
        best = scores.masked_fill(~same_region, float("-inf")).argmax(dim=1)
        if missing_region == "global":
            fallback = scores.argmax(dim=1)
        else:
            fallback = torch.full_like(best, -1)
        parts.append(torch.where(has_match[:, start:stop], best, fallback))
    return torch.cat(parts, dim=1)


def _best(filters_t: torch.Tensor, patches: torch.Tensor, max_scores: int) -> torch.Tensor:
    """argmax over rows of ``filters_t [L_s, D] @ patches [D, n]``, in column chunks."""
    chunk = max(1, max_scores // max(1, filters_t.shape[0]))
    parts = [
        (filters_t @ patches[:, i : i + chunk]).argmax(dim=0)
        for i in range(0, patches.shape[1], chunk)
    ]
    return torch.cat(parts) if parts else patches.new_zeros(0, dtype=torch.long)


def _match_per_region(
    filters_t: torch.Tensor,
    content_patches: torch.Tensor,
    c_labels: torch.Tensor,
    s_labels: torch.Tensor,
    has_match: torch.Tensor,
    missing_region: str,
    max_scores: int,
) -> torch.Tensor:
    """Region-restricted matching, one product per region: cost ``sum_k M_k N_k``."""
    index = torch.full_like(c_labels, -1)
    for b in range(c_labels.shape[0]):
        for label in c_labels[b].unique().tolist():
            c_sel = (c_labels[b] == label).nonzero()[:, 0]
            s_sel = (s_labels[b] == label).nonzero()[:, 0]
            if len(s_sel) == 0:
                continue
            best = _best(filters_t[b, s_sel], content_patches[b][:, c_sel], max_scores)
            index[b, c_sel] = s_sel[best]  # s_sel is ascending: ties resolve as in the mask path
        lonely = (~has_match[b]).nonzero()[:, 0]
        if missing_region == "global" and len(lonely):
            index[b, lonely] = _best(filters_t[b], content_patches[b][:, lonely], max_scores)
    return index


def patch_swap(
    content: torch.Tensor,
    style: torch.Tensor,
    patch_size: int = 3,
    stride: int = 1,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    missing_region: MissingRegion = "content",
    strategy: Strategy = "per_region",
) -> torch.Tensor:
    """Replace every content patch by its nearest (normalised cross-correlation) style patch.

    ``content [B, C, H, W]`` and ``style [B, C, H_s, W_s]`` are paired sample by sample.
    Optional int64 label maps ``content_mask [B, H, W]`` / ``style_mask [B, H_s, W_s]`` at
    the features' resolution restrict matches to the same region (see the module docstring
    for ``missing_region``). Returns ``[B, C, H, W]``; overlapping patches are averaged.
    Differentiable in the style feature (the argmax itself is not).
    """
    index = match_patches(
        content,
        style,
        patch_size,
        stride,
        content_mask,
        style_mask,
        missing_region,
        strategy=strategy,
    )
    style_patches = F.unfold(style, patch_size, stride=stride)  # [B, D, L_s]
    content_patches = F.unfold(content, patch_size, stride=stride)  # [B, D, L_c]
    depth = style_patches.shape[1]
    keep = index < 0
    gather_index = index.clamp_min(0)[:, None, :].expand(-1, depth, -1)
    chosen = style_patches.gather(2, gather_index)  # [B, D, L_c]
    if bool(keep.any()):
        chosen = torch.where(keep[:, None, :], content_patches, chosen)
    size = tuple(content.shape[-2:])
    summed = F.fold(chosen, size, patch_size, stride=stride)
    ones = torch.ones_like(content[:1, :1])
    overlap = F.fold(F.unfold(ones, patch_size, stride=stride), size, patch_size, stride=stride)
    return torch.where(overlap > 0, summed / overlap.clamp_min(1.0), content)


class _CallableModule(types.ModuleType):
    """Lets ``maskstyle.nn.patch_swap(...)`` call :func:`patch_swap` even after this module
    has been imported (the package attribute is then the module, not the function)."""

    def __call__(self, *args, **kwargs) -> torch.Tensor:
        return patch_swap(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
