"""Training the feature decoder (Lu et al. 2017, Sec. 3.2, Eq. 6; Figs. 3-5).

There is no ground-truth stylised image, so the decoder ``g(F; theta)`` is trained as the
second half of an auto-encoder whose first half is the frozen VGG19 ``f``:

    theta* = argmin 1/N sum_i || f(g(F_o^i; theta)) - F_o^i ||_F^2 + lambda L_TV(g(F_o^i))  (Eq. 6)

The inputs ``F_o`` must look like the features the decoder will meet at test time - content
features that carry a style's local statistics. The paper makes them with neural patch swap
(:func:`maskstyle.nn.patch_swap`), mixed with plain features (Fig. 5); following
style-swap's recipe, a batch of ``B`` content and ``B`` style images gives ``B`` content
features, ``B`` style features and the ``B^2`` swapped features of every (content, style)
pair (``B = 2``: 2 + 2 + 4). With label maps the swap is region-restricted.

The feature term is the mean squared error per element (style-swap's ``MSECriterion``, the
Frobenius norm of Eq. 6 divided by the number of entries); the total variation term is the
sum of squared differences between neighbouring pixels, averaged over the batch (Johnson et
al.'s ``TotalVariation``), weighted by ``1e-6`` (paper and style-swap). Adam, lr ``1e-3``.
The loop is :class:`maskstyle.train.Trainer` (atomic checkpoints, loss history, resume).

**CPU settings** (our choices, not the paper's): ``pairs="matched"`` swaps content ``i``
with style ``i`` only (``3B`` features per batch instead of ``2B + B^2``), so a batch of
8 faces costs 24 decodes instead of 80; ``normalise_input`` sets the decoder's fixed
``input_scale`` to ``1 / RMS(F)`` of the first batch (see :mod:`maskstyle.nn.vgg_decoder`:
the random encoder's features have an RMS of about 0.1, and scaling them to 1 lets the
default-initialised decoder start at the right magnitude); ``channels_last`` runs both
networks in the channels-last layout (about 1.4x faster convolutions on this CPU).
``pixel_weight > 0`` adds ``pixel_weight * MSE(g(f(x)), x)`` on the plain content and style
features, whose images are known (Li et al. 2017's universal-style decoders train with such a
term; the paper's Eq. 6 has none): with a *random-weight* VGG19, Eq. 6 alone leaves colours
loose where the features are weak in them - at relu4_1 the pixel term took the held-out PSNR
from 15.0 dB (1000 steps) to 17.1 dB (600 steps), and at relu3_1 it kept more of the small
regions' colours (probes in the series' ``cpu.yaml``; notebook 05 measures the colours).

:func:`decoder_psnr` measures what the decoder is for: the PSNR of ``g(f(x))`` against ``x``
on held-out images.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
import torch.nn.functional as F

from maskstyle.nn.masks import resize_labels
from maskstyle.nn.patch_swap import patch_swap
from maskstyle.nn.vgg import VGG19Features
from maskstyle.nn.vgg_decoder import VGGDecoder
from maskstyle.train.checkpoint import latest_checkpoint, load_checkpoint
from maskstyle.train.history import LossHistory
from maskstyle.train.trainer import Trainer


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Sum of squared horizontal and vertical neighbour differences, mean over the batch
    (:func:`maskstyle.nn.total_variation` with ``p=2``, per image)."""
    from maskstyle.nn.total_variation import total_variation as tv

    return tv(image, p=2, reduction="image")


def decoder_loss(
    decoder: VGGDecoder,
    encoder: VGG19Features,
    features: torch.Tensor,
    tv_weight: float = 1e-6,
    images: torch.Tensor | None = None,
    pixel_weight: float = 0.0,
) -> dict[str, torch.Tensor]:
    """Eq. 6 on a batch of features: ``{"feature", "tv", "total"}`` (differentiable).

    With ``pixel_weight > 0`` and ``images`` (the images of the *first* ``len(images)``
    features, i.e. the plain content and style features of :func:`mixed_features`) the total
    adds ``pixel_weight * MSE(g(f(x)), x)`` as ``"pixel"`` (not in the paper; see the module
    docstring)."""
    if decoder.layer not in encoder.layers:
        raise ValueError(
            f"the encoder must return {decoder.layer!r} (the decoder's layer); it returns "
            f"{encoder.layers}"
        )
    image = decoder(features)
    # the encoder warns on inputs far outside [0, 1]; an untrained decoder produces them
    check_range, encoder.check_range = encoder.check_range, False
    try:
        again = encoder(image)[decoder.layer]
    finally:
        encoder.check_range = check_range
    feature = F.mse_loss(again, features)
    tv = total_variation(image)
    losses = {"feature": feature, "tv": tv, "total": feature + tv_weight * tv}
    if pixel_weight > 0:
        if images is None or images.shape[0] > image.shape[0]:
            raise ValueError(
                "pixel_weight > 0 needs images [n, 3, H, W] for the first n features "
                f"(got {None if images is None else tuple(images.shape)} for "
                f"{image.shape[0]} features)"
            )
        losses["pixel"] = F.mse_loss(image[: images.shape[0]], images)
        losses["total"] = losses["total"] + pixel_weight * losses["pixel"]
    return losses


def mixed_features(
    encoder: VGG19Features,
    layer: str,
    content: torch.Tensor,
    style: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    style_mask: torch.Tensor | None = None,
    patch_size: int = 3,
    pairs: str = "all",
) -> torch.Tensor:
    """Training features for the decoder: ``[2B + B^2, C, h, w]`` (Fig. 5).

    ``B`` content features, ``B`` style features, then the patch swap of content ``i`` with
    style ``j`` for all ``i, j`` (region-restricted when label maps ``[B, H, W]`` at image
    resolution are given); ``pairs="matched"`` swaps only ``i`` with ``i`` (``[3B, ...]``).
    Content and style images must share their size.
    """
    if pairs not in ("all", "matched"):
        raise ValueError(
            f"pairs must be 'all' (every content with every style) or 'matched', got {pairs!r}"
        )
    if content.shape != style.shape:
        raise ValueError(
            f"content {tuple(content.shape)} and style {tuple(style.shape)} must have the same "
            "shape (resize both to the training resolution, e.g. 256 px)"
        )
    with torch.no_grad():
        f_c = encoder(content)[layer]
        f_s = encoder(style)[layer]
        b = f_c.shape[0]
        if pairs == "all":
            ci = torch.arange(b).repeat_interleave(b)  # pairs (i, j) for all i, j
            sj = torch.arange(b).repeat(b)
        else:
            ci = sj = torch.arange(b)
        masks = {}
        if content_mask is not None or style_mask is not None:
            if content_mask is None or style_mask is None:
                raise ValueError("give both content_mask and style_mask or neither")
            size = tuple(f_c.shape[-2:])
            masks = {
                "content_mask": resize_labels(content_mask, size)[ci],
                "style_mask": resize_labels(style_mask, size)[sj],
            }
        swapped = patch_swap(f_c[ci], f_s[sj], patch_size, **masks)
    return torch.cat([f_c, f_s, swapped])


def train_decoder(
    decoder: VGGDecoder,
    encoder: VGG19Features,
    data: Iterable[Mapping[str, torch.Tensor]],
    total_steps: int,
    out_dir: str | os.PathLike,
    lr: float = 1e-3,
    tv_weight: float = 1e-6,
    patch_size: int = 3,
    data_provenance: str = "unspecified data",
    checkpoint_every: int = 1000,
    log_every: int = 10,
    progress: bool = True,
    resume: bool = True,
    pairs: str = "all",
    normalise_input: bool = False,
    channels_last: bool = False,
    settings: Mapping | None = None,
    fresh: bool = False,
    lr_drop_at: int = 0,
    pixel_weight: float = 0.0,
) -> LossHistory:
    """Train ``decoder`` by Eq. 6 on mixed features (see the module docstring).

    ``data`` yields dicts with ``"content"`` and ``"style"`` images ``[B, 3, H, W]`` (and
    optionally ``"content_mask"``/``"style_mask"`` label maps); it must not run out before
    ``total_steps``. Checkpoints and ``history.csv`` go to ``out_dir`` (resumed if present);
    the checkpoint's ``extra`` and ``decoder.provenance`` record data, encoder and steps.
    ``pairs``, ``normalise_input`` and ``channels_last``: see the module docstring.
    ``lr_drop_at > 0`` multiplies the learning rate by 0.1 from that step on (the usual
    last-stretch decay: Adam's step noise, not the model, limits the loss there).
    ``pixel_weight > 0`` adds the pixel term of :func:`decoder_loss` on the plain content and
    style features (module docstring: why a random-weight encoder needs it).
    """
    optimizer = torch.optim.Adam(decoder.parameters(), lr=lr)
    schedulers = {}
    if lr_drop_at > 0:
        schedulers["decoder"] = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda done: 0.1 if done >= lr_drop_at else 1.0
        )
    if channels_last:
        encoder.to(memory_format=torch.channels_last)
        decoder.to(memory_format=torch.channels_last)

    def step_fn(batch: Mapping[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        features = mixed_features(
            encoder,
            decoder.layer,
            batch["content"],
            batch["style"],
            batch.get("content_mask"),
            batch.get("style_mask"),
            patch_size,
            pairs,
        )
        if step == 0 and normalise_input:  # fixed normalisation, saved with the weights
            decoder.input_scale.fill_(1.0 / float(features.square().mean().sqrt().clamp_min(1e-8)))
        if channels_last:
            features = features.contiguous(memory_format=torch.channels_last)
        images = torch.cat([batch["content"], batch["style"]]) if pixel_weight > 0 else None
        losses = decoder_loss(decoder, encoder, features, tv_weight, images, pixel_weight)
        optimizer.zero_grad()
        losses["total"].backward()
        optimizer.step()
        return {name: value.detach() for name, value in losses.items()}

    extra = {
        "layer": decoder.layer,
        "encoder": encoder.provenance,
        "data": data_provenance,
        "lr": lr,
        "tv_weight": tv_weight,
        "patch_size": patch_size,
        "seed": decoder.seed,
        "encoder_weights": encoder.weights_kind,
        "encoder_seed": encoder.seed,
        "pairs": pairs,
        "normalise_input": normalise_input,
        "lr_drop_at": lr_drop_at,
        "pixel_weight": pixel_weight,
    }
    trainer = Trainer(
        models={"decoder": decoder},
        optimizers={"decoder": optimizer},
        step_fn=step_fn,
        data=data,
        schedulers=schedulers,
        total_steps=total_steps,
        out_dir=out_dir,
        checkpoint_every=checkpoint_every,
        log_every=log_every,
        progress=progress,
        resume=resume,
        extra=extra,
        settings=settings,
        fresh=fresh,
    )
    history = trainer.run()
    decoder.eval()
    decoder.provenance = _provenance(decoder.layer, trainer.step, extra)
    return history


def _provenance(layer: str, step: int, extra: Mapping) -> str:
    return (
        f"VGGDecoder({layer}): trained {step} steps by Eq. 6 on {extra['data']} "
        f"(encoder {extra['encoder']})"
    )


def load_decoder(path: str | os.PathLike, layer: str | None = None) -> VGGDecoder:
    """A decoder from a :func:`train_decoder` checkpoint file, or the newest one in a folder."""
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path / "checkpoints") or latest_checkpoint(path)
        if found is None:
            raise FileNotFoundError(
                f"no checkpoint-*.pt in {path} or {path / 'checkpoints'}: train a decoder "
                "with train_decoder(..., out_dir=...) first"
            )
        path = found
    payload_layer = torch.load(path, map_location="cpu", weights_only=True)["extra"].get("layer")
    if layer is not None and payload_layer is not None and layer != payload_layer:
        raise ValueError(f"{path} holds a decoder for {payload_layer!r}, not {layer!r}")
    decoder = VGGDecoder(payload_layer or layer or "relu3_1")
    step, extra = load_checkpoint(path, {"decoder": decoder}, restore_rng=False)
    decoder.trained_with = (extra.get("encoder_weights"), extra.get("encoder_seed"))
    decoder.trained_steps = step
    decoder.eval()
    decoder.provenance = _provenance(decoder.layer, step, extra) + f" [{path.name}]"
    return decoder


@torch.no_grad()
def decoder_psnr(decoder: VGGDecoder, encoder: VGG19Features, images: torch.Tensor) -> float:
    """Mean PSNR (dB) of ``g(f(x))`` (clamped to [0, 1]) against ``x [B, 3, H, W]``."""
    from maskstyle.metrics import psnr

    was_training = decoder.training
    decoder.eval()
    try:
        out = decoder(encoder(images)[decoder.layer]).clamp(0.0, 1.0)
    finally:
        decoder.train(was_training)
    return float(psnr(out.contiguous(), images))


def decoder_folder(
    checkpoint_root: str | os.PathLike, layer: str, expected: Mapping | None = None
) -> Path:
    """``<checkpoint_root>/decoder_<layer>``, the folder notebook 02 trains into; a clear
    error if it holds no finished run, and :class:`maskstyle.train.SettingsMismatch` if
    ``expected`` (e.g. ``{"weights": ..., "seed": ..., "size": ...}``) differs from the
    settings it was trained with (only those keys are compared)."""
    folder = Path(checkpoint_root) / f"decoder_{layer}"
    if not (folder / "summary.json").exists():
        raise FileNotFoundError(
            f"no trained {layer} decoder in {folder}: run 02_train.ipynb of this profile first "
            "(maskstyle run fast_semantic_style --profile <profile>)"
        )
    if expected is not None:
        from maskstyle.train import check_settings

        check_settings(folder, {"layer": layer, **expected}, keys=["layer", *expected])
    return folder
