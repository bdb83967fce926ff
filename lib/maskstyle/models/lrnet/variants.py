"""Short LRNet training probes: which choice closes the gap to the simple baselines?

Trained as the paper specifies it (lr 1e-4, batch 1, the decoder's whole image as the
output), LRNet loses to alpha blending on the face world's ground truth. :func:`run_variant`
trains one variant in-process for a few hundred steps and scores it on validation pairs
(PSNR/SSIM against the ground truth, and PSNR inside and outside the blended face), so a
notebook can show each candidate cause with its numbers: compositing the output with B
outside the face (Eq. 5 asks the background to be B's), the learning rate (training
length), decoder capacity, batch size and resolution (at equal compute: ``steps`` x
``step_scale``), and the loss weights.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch


@dataclass(frozen=True)
class Variant:
    """One probe: architecture, optimiser and data choices (defaults = our LRNet)."""

    name: str
    composite: bool = True
    decoder_depth: int = 1
    decoder_width: int = 128
    lr: float = 1e-3
    batch_size: int = 1
    size: int | None = None  # None: the notebook's image size
    step_scale: float = 1.0  # steps x step_scale (equal compute for bigger batches/images)
    loss_weights: tuple[float, float, float, float] = (3.0, 20.0, 100.0, 0.35)
    note: str = field(default="", compare=False)


DEFAULT_VARIANTS = (
    Variant("paper as drawn: whole decoded image, lr 1e-4", composite=False, lr=1e-4,
            note="Fig. 6 output, Section 5.1 lr"),
    Variant("whole decoded image, lr 1e-3", composite=False, note="training length"),
    Variant("composite with B, lr 1e-4", lr=1e-4, note="Eq. 5 background"),
    Variant("composite with B, lr 1e-3 (ours)", note="Eq. 5 background + training length"),
    Variant("+ deeper decoder (depth 2)", decoder_depth=2, note="decoder capacity"),
    Variant("+ batch 4 (1/4 of the steps)", batch_size=4, step_scale=0.25,
            note="batch size, equal compute"),
    Variant("+ 128 px (1/4 of the steps)", size=128, step_scale=0.25,
            note="resolution, equal compute"),
    Variant("+ no cycle term (lambda_2 = 0)", loss_weights=(3.0, 0.0, 100.0, 0.35),
            note="loss weights"),
)  # fmt: skip


def run_variant(
    variant: Variant,
    steps: int,
    size: int = 64,
    pairs: int = 100,
    seed: int = 0,
    weights: str = "random",
    eval_pairs: int = 30,
    progress: bool = True,
) -> dict:
    """Train ``variant`` for ``round(steps * step_scale)`` steps on the face world's training
    pairs and score it on the first ``eval_pairs`` validation pairs.

    Returns the variant's fields plus ``steps``, ``seconds``, ``psnr``, ``ssim``,
    ``psnr_face``, ``psnr_background`` (dB) and ``final_loss``.
    """
    from tqdm.auto import tqdm

    from maskstyle.metrics import psnr, ssim
    from maskstyle.metrics.masked import masked_psnr
    from maskstyle.models.lrnet.data import FaceWorldBlendPairs, collate_pairs
    from maskstyle.models.lrnet.losses import LossWeights, lrnet_losses
    from maskstyle.models.lrnet.train import build_lrnet

    size = variant.size or size
    n_steps = max(1, round(steps * variant.step_scale))
    train = FaceWorldBlendPairs(pairs, size, seed, "train")
    val = FaceWorldBlendPairs(pairs, size, seed, "val")
    model = build_lrnet(
        weights, seed, composite=variant.composite, decoder_width=variant.decoder_width,
        decoder_depth=variant.decoder_depth,
    )  # fmt: skip
    loss_weights = LossWeights(*variant.loss_weights)
    optimizer = torch.optim.Adam(model.decoder.parameters(), lr=variant.lr)
    g = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    total = torch.tensor(float("nan"))
    for _ in tqdm(range(n_steps), desc=variant.name, disable=not progress, leave=False):
        idx = torch.randint(len(train), (variant.batch_size,), generator=g).tolist()
        b = collate_pairs([train[i] for i in idx])
        total, _, _ = lrnet_losses(
            model, model.encoder, b["x_a"], b["x_b"], b["regions_a"], b["regions_b"],
            b["coords_a"], b["coords_b"], loss_weights,
        )  # fmt: skip
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    model.eval()
    outs, targets, fgs = [], [], []
    with torch.no_grad():
        for i in range(min(eval_pairs, len(val))):
            b = collate_pairs([val[i]])
            outs.append(model(b["x_a"], b["x_b"], b["regions_a"], b["regions_b"],
                              b["coords_a"], b["coords_b"]).clamp(0, 1))  # fmt: skip
            targets.append(b["target"])
            fgs.append(model.foreground(b["regions_a"]))
    out, target, fg = torch.cat(outs), torch.cat(targets), torch.cat(fgs)
    row = asdict(variant)
    row.update(
        size=size, steps=n_steps, seconds=seconds, final_loss=float(total.detach()),
        psnr=float(psnr(out, target)), ssim=float(ssim(out, target)),
        psnr_face=float(masked_psnr(out, target, fg)),
        psnr_background=float(masked_psnr(out, target, fg, inside=False)),
    )  # fmt: skip
    row["loss_weights"] = ", ".join(f"{w:g}" for w in variant.loss_weights)
    return row


def alpha_reference(size: int, pairs: int, seed: int = 0, eval_pairs: int = 30) -> dict:
    """The target every probe must beat: alpha blending (Reinhard colour transfer + feathered
    paste) on the same validation pairs, scored like :func:`run_variant`."""
    from maskstyle.baselines.blending import alpha_blending
    from maskstyle.metrics import psnr, ssim
    from maskstyle.metrics.masked import masked_psnr
    from maskstyle.models.lrnet.data import FaceWorldBlendPairs, collate_pairs
    from maskstyle.models.lrnet.regions import LRNET_FACE_REGIONS

    val = FaceWorldBlendPairs(pairs, size, seed, "val")
    b = collate_pairs([val[i] for i in range(min(eval_pairs, len(val)))])
    fg = torch.isin(b["regions_a"], torch.tensor(LRNET_FACE_REGIONS))
    out = alpha_blending(b["x_a"], b["x_b"], fg)
    return {
        "name": "alpha blending (baseline)", "size": size,
        "psnr": float(psnr(out, b["target"])), "ssim": float(ssim(out, b["target"])),
        "psnr_face": float(masked_psnr(out, b["target"], fg)),
        "psnr_background": float(masked_psnr(out, b["target"], fg, inside=False)),
    }  # fmt: skip
