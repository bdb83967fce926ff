"""GeneGAN's losses (Sec. 2.1.1, Eqs. 3-5) and those of the two baselines (Sec. 2.2).

Generator (Eq. 3; weights from the official code, which the paper leaves to it)::

    L_rec    = |x_Au - x'_Au|_1 + |x_Be - x'_Be|_1          mean absolute error on [0, 1]
    L_GAN    = G-loss(D_without(x_Ae)) + G-loss(D_with(x_Bu))
    L_null   = |e|_1                                          mean over the object code of B
    L_para   = |x_Au + x_Be - x_Ae - x_Bu|_1                  Eq. 5, on the 0..255 scale
    L_G      = w_rec L_rec + w_gan L_GAN + w_null L_null + w_para L_para,  w_para = 0.01

Discriminators (Eq. 4): ``D_with`` sees ``x_Au`` real and ``x_Bu`` fake, ``D_without`` sees
``x_Be`` real and ``x_Ae`` fake; ``L_D`` is the sum of both.

**Our reading:** Eq. 4 as printed pairs ``x_Au`` with ``x_Bu`` under ``P_e`` and ``x_Ae``
with ``x_Be`` under ``P_not-e``: the subscripts are swapped against the text ("Au
indistinguishable from Bu", "Ae not distinguishable from Be"); we follow the text and the
official code. The paper writes the log-loss (``kind="nonsaturating"``: ``-log D(fake)``
for G, Eq. 3); the official code uses WGAN with weight clipping (``kind="wgan"``, the
default here). Reconstruction is the mean L1 on [0, 1] (the code's ``/255``), the
parallelogram term the mean L1 on 0..255 times 0.01 (so 2.55 x the [0, 1] mean).

Baselines (Sec. 2.2, Fig. 2):

- Stacked GeneGAN (Fig. 2b): only the crossbreeds ``Ae, Bu`` are made; re-encoded,
  ``(A', e') = Enc(Ae)``, ``(B', u') = Enc(Bu)``, they are recombined into grandchildren
  ``Dec(A', u') ~ x_Au`` and ``Dec(B', 0) ~ x_Be``, which carry the reconstruction loss;
  GAN losses on the crossbreeds, nulling on ``e`` and ``e'``.
- GAN with cyclic loss (DiscoGAN, Fig. 2a): ``G_remove`` and ``G_add`` image-to-image
  networks, ``L = GAN(D_without(G_remove(x_Au))) + GAN(D_with(G_add(x_Be)))
  + |G_add(G_remove(x_Au)) - x_Au|_1 + |G_remove(G_add(x_Be)) - x_Be|_1``.
"""

from __future__ import annotations

import dataclasses

import torch

from maskstyle.gan.losses import discriminator_loss, generator_loss

PIXEL_SCALE = 255.0


@dataclasses.dataclass(frozen=True)
class GeneGANWeights:
    """Loss weights (official code): reconstruction 1, GAN 1, nulling 1, parallelogram 0.01."""

    reconstruction: float = 1.0
    gan: float = 1.0
    nulling: float = 1.0
    parallelogram: float = 0.01  # on the 0..255 pixel scale (Sec. 2.1.2, official code)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not value >= 0:
                raise ValueError(f"loss weight {field.name} must be >= 0, got {value}")


def parallelogram_loss(
    x_au: torch.Tensor, x_be: torch.Tensor, x_ae: torch.Tensor, x_bu: torch.Tensor
) -> torch.Tensor:
    """Eq. 5 on the 0..255 scale: ``mean |255 (x_Au + x_Be - x_Ae - x_Bu)|``."""
    return (PIXEL_SCALE * (x_au + x_be - x_ae - x_bu)).abs().mean()


def reconstruction_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """``|x - x'|_1`` as a mean over pixels and channels (images in [0, 1])."""
    return (x - x_rec).abs().mean()


def nulling_loss(e: torch.Tensor) -> torch.Tensor:
    """``L_e = |e|_1``, the mean absolute object code of the negative parent."""
    return e.abs().mean()


def genegan_generator_loss(
    model, x_au: torch.Tensor, x_be: torch.Tensor, weights: GeneGANWeights = GeneGANWeights(),
    kind: str = "wgan",
) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Eq. 3: ``(L_G, terms, children)``; ``terms`` are unweighted."""
    c = model.four_children(x_au, x_be)
    terms = {
        "rec_Au": reconstruction_loss(x_au, c["Au"]),  # |x_Au - x'_Au|_1
        "rec_Be": reconstruction_loss(x_be, c["Be"]),  # |x_Be - x'_Be|_1
        "gan_Ae": generator_loss(model.d_without(c["Ae"]), kind),  # Ae must look object-free
        "gan_Bu": generator_loss(model.d_with(c["Bu"]), kind),  # Bu must carry the object
        "nulling": nulling_loss(c["e"]),  # |e|_1
        "parallelogram": parallelogram_loss(x_au, x_be, c["Ae"], c["Bu"]),  # Eq. 5
    }
    total = (
        weights.reconstruction * (terms["rec_Au"] + terms["rec_Be"])
        + weights.gan * (terms["gan_Ae"] + terms["gan_Bu"])
        + weights.nulling * terms["nulling"]
        + weights.parallelogram * terms["parallelogram"]
    )
    terms["g_total"] = total
    return total, terms, c


def genegan_discriminator_loss(
    model, x_au: torch.Tensor, x_be: torch.Tensor, kind: str = "wgan",
    gp_weight: float = 0.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. 4: ``L_D = L(D_with; x_Au real, x_Bu fake) + L(D_without; x_Be real, x_Ae fake)``.

    The children are made without gradients (D's update does not train G). ``gp_weight > 0``
    adds WGAN-GP's gradient penalty to each critic.
    """
    with torch.no_grad():
        c = model.four_children(x_au, x_be)
    d_with = discriminator_loss(model.d_with(x_au), model.d_with(c["Bu"]), kind)
    d_without = discriminator_loss(model.d_without(x_be), model.d_without(c["Ae"]), kind)
    terms = {"d_with": d_with, "d_without": d_without}
    total = d_with + d_without
    if gp_weight > 0:
        from maskstyle.gan.losses import gradient_penalty

        gp = gradient_penalty(model.d_with, x_au, c["Bu"], gp_weight) + gradient_penalty(
            model.d_without, x_be, c["Ae"], gp_weight)
        terms["gp"] = gp
        total = total + gp
    terms["d_total"] = total
    return total, terms


def stacked_generator_loss(
    model, x_au: torch.Tensor, x_be: torch.Tensor, weights: GeneGANWeights = GeneGANWeights(),
    kind: str = "wgan",
) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Stacked GeneGAN (Fig. 2b): reconstruction through grandchildren after two swaps."""
    c = model.four_children(x_au, x_be)
    # (A', e') = Enc(Ae), (B', u') = Enc(Bu), in one encoder pass
    bg2, obj2 = model.encode(torch.cat([c["Ae"], c["Bu"]]))
    n = len(x_au)
    a2, b2, e2, u2 = bg2[:n], bg2[n:], obj2[:n], obj2[n:]
    grand = model.decode(torch.cat([a2, b2]), torch.cat([u2, torch.zeros_like(e2)]))
    au2, be2 = grand.chunk(2)  # Dec(A', u') ~ x_Au, Dec(B', 0) ~ x_Be
    terms = {
        "rec_Au": reconstruction_loss(x_au, au2),
        "rec_Be": reconstruction_loss(x_be, be2),
        "gan_Ae": generator_loss(model.d_without(c["Ae"]), kind),
        "gan_Bu": generator_loss(model.d_with(c["Bu"]), kind),
        "nulling": nulling_loss(c["e"]) + nulling_loss(e2),
        "parallelogram": parallelogram_loss(x_au, x_be, c["Ae"], c["Bu"]),
    }
    total = (
        weights.reconstruction * (terms["rec_Au"] + terms["rec_Be"])
        + weights.gan * (terms["gan_Ae"] + terms["gan_Bu"])
        + weights.nulling * terms["nulling"]
        + weights.parallelogram * terms["parallelogram"]
    )
    terms["g_total"] = total
    c.update({"Au2": au2, "Be2": be2})
    return total, terms, c


def cyclic_generator_loss(
    model, x_au: torch.Tensor, x_be: torch.Tensor, weights: GeneGANWeights = GeneGANWeights(),
    kind: str = "wgan",
) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """GAN with cyclic loss (DiscoGAN): GAN on the translations + cycle reconstruction."""
    ae = model.remove_net(x_au)  # G_remove(x_Au)
    bu = model.add_net(x_be)  # G_add(x_Be)
    au2, be2 = model.add_net(ae), model.remove_net(bu)
    terms = {
        "rec_Au": reconstruction_loss(x_au, au2),  # |G_add(G_remove(x_Au)) - x_Au|_1
        "rec_Be": reconstruction_loss(x_be, be2),  # |G_remove(G_add(x_Be)) - x_Be|_1
        "gan_Ae": generator_loss(model.d_without(ae), kind),
        "gan_Bu": generator_loss(model.d_with(bu), kind),
    }
    total = weights.reconstruction * (terms["rec_Au"] + terms["rec_Be"]) + weights.gan * (
        terms["gan_Ae"] + terms["gan_Bu"])
    terms["g_total"] = total
    return total, terms, {"Ae": ae, "Bu": bu, "Au": au2, "Be": be2}


def cyclic_discriminator_loss(
    model, x_au: torch.Tensor, x_be: torch.Tensor, kind: str = "wgan", gp_weight: float = 0.0
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The cyclic baseline's D losses: ``x_Au`` vs ``G_add(x_Be)``, ``x_Be`` vs
    ``G_remove(x_Au)``."""
    with torch.no_grad():
        ae, bu = model.remove_net(x_au), model.add_net(x_be)
    d_with = discriminator_loss(model.d_with(x_au), model.d_with(bu), kind)
    d_without = discriminator_loss(model.d_without(x_be), model.d_without(ae), kind)
    total = d_with + d_without
    return total, {"d_with": d_with, "d_without": d_without, "d_total": total}


__all__ = [
    "GeneGANWeights",
    "PIXEL_SCALE",
    "cyclic_discriminator_loss",
    "cyclic_generator_loss",
    "genegan_discriminator_loss",
    "genegan_generator_loss",
    "nulling_loss",
    "parallelogram_loss",
    "reconstruction_loss",
    "stacked_generator_loss",
]
