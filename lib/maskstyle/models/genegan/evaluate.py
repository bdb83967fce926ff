"""Metrics beyond the paper: removals and transplants against counterfactual ground truth.

On held-out counterfactual pairs (the same face without / with the attribute, differing
only inside ``region``):

- ``removal_region_psnr`` - PSNR of ``remove(x_with)`` against ``x_without`` inside the
  region; ``input_region_psnr`` - the unedited ``x_with`` against ``x_without`` there (a
  removal that helps beats it);
- ``background_psnr`` - ``remove(x_with)`` against the input ``x_with`` outside the region
  (what the edit should leave alone);
- ``removal_ssim_region`` / ``background_ssim`` - the same with SSIM;
- ``transplant_region_psnr`` - ``transplant(x_without, x_with)`` (the face's own object put
  back) against ``x_with`` inside the region; ``transplant_background_psnr`` outside it
  against ``x_without``;
- ``removal_success`` / ``transplant_success`` - the fraction of removals the attribute
  classifier calls "without" and of transplants (each face's object from *another* face of
  the set, ``exemplar = roll(x_with, 1)``) it calls "with";
- ``reconstruction_psnr`` - ``Dec(Enc(x))`` against ``x`` (GeneGAN only).
- ``ceiling_region_psnr`` - ``Dec(Enc(x_without))`` against ``x_without`` inside the region:
  the most a removal can reach through this autoencoder (GeneGAN only).
- ``reconstruction_detection`` - the fraction of reconstructions ``Dec(Enc(x_with))`` the
  classifier still calls "with" (GeneGAN only): the control for ``removal_success``. A
  blurred autoencoder can lose the attribute without any removal (the classifier is trained
  on sharp faces), and then every removal counts as a success; ``removal_success`` means
  something only as far as this is high. ``removal_success_detected`` is the removal success
  on the pairs whose reconstruction the classifier calls "with" (NaN when there are none).
- ``reconstruction_edge_ratio`` - the reconstructions' high-frequency energy over the
  inputs' (:func:`edge_energy`, GeneGAN only): 1 is as sharp as the input, below 1 blurred,
  above 1 speckled (an adversarial term can make a decoder invent grain it cannot place).

PSNR/SSIM inside/outside a region: :func:`maskstyle.metrics.masked.masked_psnr`.
"""

from __future__ import annotations

import torch

from maskstyle.metrics.masked import masked_psnr, masked_ssim
from maskstyle.metrics.pixel import psnr
from maskstyle.models.genegan.operations import evaluating, remove, transplant
from maskstyle.nn.total_variation import total_variation

METRIC_KEYS = (
    "removal_success", "transplant_success", "removal_region_psnr", "input_region_psnr",
    "background_psnr", "removal_region_ssim", "background_ssim", "transplant_region_psnr",
    "transplant_background_psnr",
)  # fmt: skip


def _batched(fn, *tensors: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    return torch.cat([fn(*(t[i : i + batch_size] for t in tensors))
                      for i in range(0, len(tensors[0]), batch_size)])  # fmt: skip


def edge_energy(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between vertical and horizontal pixel neighbours of
    ``x [B, C, H, W]`` (the anisotropic total variation per neighbour pair,
    :func:`maskstyle.nn.total_variation` with ``reduction="pair"``), a scalar."""
    return total_variation(x, p=1, reduction="pair")


def edit_outputs(model, test: dict[str, torch.Tensor], batch_size: int = 32) -> dict:
    """Removals, own-object and other-object transplants of ``test``'s pairs."""
    x_with, x_without = test["with"], test["without"]
    exemplars = x_with.roll(1, dims=0)
    return {
        "removal": _batched(lambda x: remove(model, x), x_with, batch_size=batch_size),
        "transplant_own": _batched(lambda b, e: transplant(model, b, e), x_without, x_with,
                                   batch_size=batch_size),  # fmt: skip
        "transplant_other": _batched(lambda b, e: transplant(model, b, e), x_without, exemplars,
                                     batch_size=batch_size),  # fmt: skip
    }


def evaluate_edits(model, classifier, test: dict[str, torch.Tensor],
                   batch_size: int = 32) -> dict[str, float]:  # fmt: skip
    """Every metric of the module docstring, averaged over ``test``'s pairs."""
    out = edit_outputs(model, test, batch_size)
    x_with, x_without, region = test["with"], test["without"], test["region"]
    removed = classifier.probability(out["removal"]) < 0.5  # [N] bool
    metrics = {
        "removal_success": float(removed.float().mean()),
        "transplant_success": float(
            (classifier.probability(out["transplant_other"]) >= 0.5).float().mean()),
        "removal_region_psnr": float(masked_psnr(out["removal"], x_without, region)),
        "input_region_psnr": float(masked_psnr(x_with, x_without, region)),
        "background_psnr": float(masked_psnr(out["removal"], x_with, region, inside=False)),
        "removal_region_ssim": float(masked_ssim(out["removal"], x_without, region)),
        "background_ssim": float(masked_ssim(out["removal"], x_with, region, inside=False)),
        "transplant_region_psnr": float(masked_psnr(out["transplant_own"], x_with, region)),
        "transplant_background_psnr": float(
            masked_psnr(out["transplant_own"], x_without, region, inside=False)),
    }
    if hasattr(model, "encode"):
        with evaluating(model):
            rec = _batched(lambda x: model.decode(*model.encode(x)), x_with, batch_size=batch_size)
            rec_without = _batched(lambda x: model.decode(*model.encode(x)), x_without,
                                   batch_size=batch_size)  # fmt: skip
        metrics["reconstruction_psnr"] = float(psnr(rec, x_with))
        # The ceiling of removal_region_psnr: the autoencoder's own blur inside the region,
        # measured on the faces a perfect removal would have to produce.
        metrics["ceiling_region_psnr"] = float(masked_psnr(rec_without, x_without, region))
        metrics["reconstruction_edge_ratio"] = float(edge_energy(rec) / edge_energy(x_with))
        detected = classifier.probability(rec) >= 0.5
        metrics["reconstruction_detection"] = float(detected.float().mean())
        metrics["removal_success_detected"] = (
            float(removed[detected].float().mean()) if detected.any() else float("nan"))
    return metrics


def selection_score(metrics: dict[str, float]) -> float:
    """The validation score a checkpoint is chosen by: removal success + transplant success
    + 0.05 x the removal's region PSNR gain over the input (dB), so success dominates and
    the gain breaks ties."""
    gain = metrics["removal_region_psnr"] - metrics["input_region_psnr"]
    return metrics["removal_success"] + metrics["transplant_success"] + 0.05 * gain


__all__ = ["METRIC_KEYS", "edge_energy", "edit_outputs", "evaluate_edits", "selection_score"]
