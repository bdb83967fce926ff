"""Intra-class positional encoding (ICPE) of CLADE-ICPE (Tan et al. 2021, "Efficient
semantic image synthesis via class-adaptive normalization", Sec. on ICPE).

CLADE's modulation is one vector per class, so it cannot tell the top of a class region
from its bottom. ICPE gives every pixel its position *relative to its class region*: with
``(c_h, c_w)`` the centre (mean pixel coordinate) of the region of class ``k = m(i)`` that
holds pixel ``i = (h, w)``,

    P_h(i) = (h - c_h) / max_{j: m(j) = k} |h_j - c_h|,
    P_w(i) = (w - c_w) / max_{j: m(j) = k} |w_j - c_w|                       (ICPE)

a 2-channel map in ``[-1, 1]`` (0 at the class centre, +-1 at its extremes along each axis).

**Our reading of the official code** (``util/cal_dist_masks.py`` of tzt101/CLADE): it does
this per *connected component* of each class (cv2), skips label 0 and divides by
``max |offset| + 1e-5``. We use the whole class region (one centre per class, vectorised
over classes with scatter operations: no loop over classes or pixels), encode every class
(the face world's background is a real region), and divide by ``max(max |offset|, eps)``
so a one-pixel-wide region gets 0, not a division by zero. Pixel coordinates are integer
indices ``0..H-1`` as in the official code. On faces, most classes are one component; the
two-component ones (e.g. ``neck_l``) get one shared centre here.
"""

from __future__ import annotations

import torch

from maskstyle.nn.masks import check_label_map

EPS = 1e-5


def intra_class_positions(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """ICPE map ``[B, 2, H, W]`` (channels ``P_h``, ``P_w``) of a label map ``[B, H, W]``."""
    check_label_map(labels, name="labels")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}) for num_classes={num_classes}, got "
            f"[{int(labels.min())}, {int(labels.max())}]; raise num_classes or fix the map"
        )
    b, h, w = labels.shape
    flat = labels.flatten(1)  # [B, HW]
    ys = torch.arange(h, dtype=torch.float32, device=labels.device).repeat_interleave(w)
    xs = torch.arange(w, dtype=torch.float32, device=labels.device).repeat(h)
    coords = torch.stack([ys, xs]).expand(b, 2, h * w)  # [B, 2, HW]
    index = flat[:, None].expand(b, 2, h * w)
    zeros = coords.new_zeros(b, 2, num_classes)
    counts = zeros[:, :1].scatter_add(2, flat[:, None], torch.ones_like(coords[:, :1]))
    centres = zeros.scatter_add(2, index, coords) / counts.clamp_min(1)  # [B, 2, K]
    offsets = coords - centres.gather(2, index)  # [B, 2, HW]
    extent = zeros.scatter_reduce(2, index, offsets.abs(), reduce="amax", include_self=True)
    # ICPE: offset from the class centre over the class's largest offset, per axis
    pos = offsets / extent.gather(2, index).clamp_min(EPS)
    return pos.view(b, 2, h, w)


__all__ = ["intra_class_positions"]
