"""LOMIT's training objectives (Section 4, Eqs. 5-16) and its learning-rate schedule.

Notation: ``x1`` input (domain label ``y1``), ``x2`` exemplar (``y2 != y1``);
``x12 = G(h(c1, m1, s2^f, s1^b))`` the translation, ``x11 = G(h(c1, m1, s1^f, s1^b))`` the
intra-domain reconstruction. ``y`` is a multi-hot attribute vector (a *domain* is a set of
images sharing an attribute vector, Fig. 1a).

**Our readings** (where the paper leaves a choice):

- Eqs. 5-9's ``||.||_1`` is the mean absolute difference over elements (MUNIT's
  ``recon_criterion``), so the weights keep their meaning at any image size.
- Re-encoding a translation: ``x12``'s content ``c12``, mask ``m12 = S(c12 | c1)`` (its
  co-segmentation against ``x1``, the exemplar of the way back) and styles
  ``s12^f = E_s^f(m12 x12)``, ``s12^b = E_s^b((1 - m12) x12)``. Eq. 5 compares ``s12^f`` with
  ``s2^f``, Eq. 6 ``s12^b`` with ``s1^b``, Eq. 7 ``c12`` with ``c1``; the cycle (Eq. 8)
  translates back with ``x1`` as the exemplar: ``x121 = G(h(c12, m12, s1^f, s12^b))``.
- Eq. 10 with a PatchGAN critic: ``D_src`` is a score map, each expectation a mean over its
  elements; ``x^`` is the WGAN-GP interpolate ``eps x + (1 - eps) x12``, ``eps ~ U[0, 1]``
  per sample ("a sampled value from the uniform distribution").
- Eqs. 11-12 with multi-hot labels: ``-log D_cls(y|x)`` is the binary cross-entropy of the
  logits, summed over attributes and averaged over the batch (StarGAN's CelebA loss).
- Eq. 13 (R1) as written is a SUM over all ``(WH)^2`` pixel pairs; at 128 px (32 x 32 content
  pixels) that is about 10^6 terms, which with ``lambda_1 = 0.1`` would outweigh every other
  term by orders of magnitude. We take the MEAN over pairs (``reduction="mean"``, default);
  ``reduction="sum"`` is the literal form. ``m`` is the content-resolution mask, ``c-hat`` the
  L2-normalised content vectors, detached (the gradient reaches the co-segmentation network
  only through ``m``, as the paper says).
- Eq. 15 (R3) ``E ||m||_1``: the L1 norm (sum) of the image-resolution mask, averaged over
  the batch (a literal reading: ``lambda_3 = 1e-4`` times ``H W`` pixels is of order one).
- Eq. 16 applies R1-R3 to both masks of a pair (input and exemplar), summed.
- Learning rate (appendix 7.2: "we linearly decay the learning rate by half in every
  10,000 iterations from 100,000 iterations"): constant until 100k, then halved at 100k and
  at every 10k after (``lr0 * 0.5^(1 + floor((t - 100k) / 10k))``), as the official code
  does ("lr halved every 10k from 100k"); "linearly" cannot be read literally (halving
  every 10k is geometric). :func:`lr_factor`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from maskstyle.gan.losses import gradient_penalty
from maskstyle.models.lomit.model import LOMIT, Encoded


@dataclass(frozen=True)
class LossWeights:
    """Eq. 16's weights (Section 4.6) and WGAN-GP's ``lambda_gp`` (Section 4.3)."""

    cls: float = 1.0  # lambda_cls
    style_content: float = 1.0  # lambda_{s,c}
    x: float = 10.0  # lambda_x (cycle and intra-domain reconstruction)
    r1: float = 0.1  # lambda_1 (official code: 1.0)
    r2: float = 0.01  # lambda_2
    r3: float = 1e-4  # lambda_3
    gp: float = 10.0  # lambda_gp

    def to_dict(self) -> dict:
        return asdict(self)


PAPER_WEIGHTS = LossWeights()
LEARNING_RATE = 1e-4
BETAS = (0.5, 0.999)
G_EVERY = 5  # "we update {E_c, E_s^f, E_s^b, G} in every five updates of D"


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference (Eqs. 5-9's ``||.||_1``, MUNIT's reading)."""
    return (a - b).abs().mean()


def style_reconstruction(s_translated: torch.Tensor, s_target: torch.Tensor) -> torch.Tensor:
    """Eq. 5 (``s^f``: translated vs exemplar) / Eq. 6 (``s^b``: translated vs input)."""
    # Eq. 5/6: ||E_s(x12^{f/b}) - E_s(x^{f/b})||_1
    return l1(s_translated, s_target)


def content_reconstruction(c_translated: torch.Tensor, c_input: torch.Tensor) -> torch.Tensor:
    """Eq. 7: ``||E_c(x12) - E_c(x1)||_1`` over the whole image (no mask)."""
    # Eq. 7: ||E_c(x12) - E_c(x1)||_1
    return l1(c_translated, c_input)


def image_reconstruction(x_rec: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Eq. 8 (cycle ``x121`` vs ``x1``) and Eq. 9 (intra-domain ``x11`` vs ``x1``)."""
    # Eq. 8/9: ||x121 - x1||_1, ||x11 - x1||_1
    return l1(x_rec, x)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eqs. 11-12: ``-log D_cls(y|x)`` for multi-hot ``y``: BCE summed over attributes,
    mean over the batch."""
    if logits.shape != labels.shape:
        raise ValueError(
            f"classifier logits {tuple(logits.shape)} and labels {tuple(labels.shape)} differ: "
            "build the discriminator with num_classes = the number of attributes"
        )
    # Eqs. 11-12: -log D_cls(y | x) = sum_a BCE(logit_a, y_a)
    bce = F.binary_cross_entropy_with_logits(logits, labels.float(), reduction="sum")
    return bce / logits.shape[0]


def r1_mask_similarity(
    mask: torch.Tensor, content: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Eq. 13: ``E [ sum_ij |m_i - m_j| (c^_i . c^_j) ]`` with ``c^`` the unit content vectors.

    ``mask [B, 1, h, w]``, ``content [B, C, h, w]`` (same ``h, w``); the content is detached so
    the gradient flows through the mask only. ``reduction``: ``"mean"`` over the ``(hw)^2``
    pairs (our reading) or ``"sum"`` (literal). Vectorised: ``[B, hw, hw]`` matrices.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f"mask must be [B, 1, h, w], got {tuple(mask.shape)}")
    same = content.dim() == 4 and content.shape[0] == mask.shape[0]
    if not same or content.shape[-2:] != mask.shape[-2:]:
        raise ValueError(
            f"mask {tuple(mask.shape)} and content {tuple(content.shape)} must share batch and "
            "size: use the content-resolution mask (Encoded.mask), not the image-size one"
        )
    m = mask.flatten(1)  # [B, hw]
    c = F.normalize(content.detach().flatten(2), dim=1)  # [B, C, hw], c^ = c / ||c||
    similarity = c.transpose(1, 2) @ c  # [B, hw, hw]: c^ c^T
    distance = (m[:, :, None] - m[:, None, :]).abs()  # [B, hw, hw]: |m 1^T - 1 m^T|
    # Eq. 13: sum_ij [|m 1^T - 1 m^T| (.) (c^ c^T)]_ij
    per_image = (distance * similarity).sum(dim=(1, 2))
    if reduction == "mean":
        per_image = per_image / m.shape[1] ** 2
    return per_image.mean()


def r2_style_difference(style_f1: torch.Tensor, style_f2: torch.Tensor) -> torch.Tensor:
    """Eq. 14: ``-E ||s1^f - s2^f||_1`` (L1 norm over the code, mean over the batch)."""
    # Eq. 14: -E ||s1^f - s2^f||_1
    return -(style_f1 - style_f2).abs().sum(dim=1).mean()


def r3_mask_size(mask_image: torch.Tensor) -> torch.Tensor:
    """Eq. 15: ``E ||m||_1`` (sum over the image-size mask, mean over the batch)."""
    # Eq. 15: E ||m||_1
    return mask_image.abs().flatten(1).sum(dim=1).mean()


def check_pair_domains(y1: torch.Tensor, y2: torch.Tensor) -> None:
    """Cross-domain translation needs an exemplar from ANOTHER domain for every sample."""
    if y1.shape != y2.shape:
        raise ValueError(f"labels {tuple(y1.shape)} and {tuple(y2.shape)} differ in shape")
    same = ~(y1.bool() != y2.bool()).any(dim=1)
    if same.any():
        rows = same.nonzero().flatten().tolist()
        raise ValueError(
            f"pairs {rows} have an exemplar from the input's own domain (same attribute "
            "vector); LOMIT's cross-domain losses need x2 from another domain: draw pairs "
            "with maskstyle.models.lomit.data.DomainPairs (it resamples such exemplars)"
        )


def lr_factor(step: int, decay_start: int = 100_000, decay_every: int = 10_000) -> float:
    """Appendix 7.2 (our reading): 1 before ``decay_start``, then halved at ``decay_start``
    and every ``decay_every`` steps after."""
    if step < decay_start:
        return 1.0
    return 0.5 ** (1 + math.floor((step - decay_start) / decay_every))


@dataclass
class PairPass:
    """Everything one generator pass over a pair computes (for losses and figures)."""

    e1: Encoded
    e2: Encoded
    x12: torch.Tensor
    x21: torch.Tensor
    x11: torch.Tensor
    x22: torch.Tensor


def translate_pair(model: LOMIT, x1: torch.Tensor, x2: torch.Tensor) -> PairPass:
    """Both translations and both intra-domain reconstructions of a pair."""
    e1, e2 = model.encode_pair(x1, x2)
    x12 = model.decode(e1.content, e1.mask, e2.style_f, e1.style_b)
    x21 = model.decode(e2.content, e2.mask, e1.style_f, e2.style_b)
    x11 = model.decode(e1.content, e1.mask, e1.style_f, e1.style_b)
    x22 = model.decode(e2.content, e2.mask, e2.style_f, e2.style_b)
    return PairPass(e1, e2, x12, x21, x11, x22)


def _critic(discriminator):
    return lambda x: discriminator(x)[0]


def discriminator_losses(
    model: LOMIT, discriminator, batch: dict, weights: LossWeights = PAPER_WEIGHTS,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:  # fmt: skip
    """``L_D = -L_adv + lambda_cls L_cls_r`` (Eq. 16) over both directions of the pair."""
    x1, x2, y1, y2 = batch["x1"], batch["x2"], batch["y1"], batch["y2"]
    check_pair_domains(y1, y2)
    with torch.no_grad():
        p = translate_pair(model, x1, x2)
    wasserstein, gp, cls = x1.new_zeros(()), x1.new_zeros(()), x1.new_zeros(())
    for real, fake, y in ((x1, p.x12, y1), (x2, p.x21, y2)):
        src_real, cls_real = discriminator(real)
        src_fake, _ = discriminator(fake)
        # Eq. 10 (negated for D): -E[D_src(x)] + E[D_src(x12)]
        wasserstein = wasserstein + src_fake.mean() - src_real.mean()
        # Eq. 10: lambda_gp E[(||grad D_src(x^)||_2 - 1)^2]
        gp = gp + gradient_penalty(_critic(discriminator), real, fake, weights.gp,
                                   generator=generator)  # fmt: skip
        # Eq. 11: E[-log D_cls(y_x | x)] on real images
        cls = cls + classification_loss(cls_real, y)
    # Eq. 16, L_D
    total = wasserstein + gp + weights.cls * cls
    return total, {"d_wasserstein": wasserstein, "d_gp": gp, "d_cls_real": cls, "d_total": total}


def generator_losses(
    model: LOMIT, discriminator, batch: dict, weights: LossWeights = PAPER_WEIGHTS,
    r1_reduction: str = "mean",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:  # fmt: skip
    """``L_G`` of Eq. 16 over both directions (1->2 and 2->1) of the pair."""
    x1, x2, y1, y2 = batch["x1"], batch["x2"], batch["y1"], batch["y2"]
    check_pair_domains(y1, y2)
    p = translate_pair(model, x1, x2)
    z = x1.new_zeros(())
    adv, cls, s_f, s_b, cont, cyc, rec, r1, r2, r3 = (z,) * 10
    directions = ((x1, p.e1, p.e2, p.x12, p.x11, y2), (x2, p.e2, p.e1, p.x21, p.x22, y1))
    for x, e_in, e_ex, x_t, x_same, y_target in directions:
        src_fake, cls_fake = discriminator(x_t)
        # Eq. 10, G's part: -E[D_src(x12)]
        adv = adv - src_fake.mean()
        # Eq. 12: -log D_cls(y2 | x12)
        cls = cls + classification_loss(cls_fake, y_target)
        c_t = model.content(x_t)  # re-encode the translation
        m_t = model.coseg(c_t, e_in.content) if model.config.use_masks else None
        m_t_image = model.upsample(m_t) if m_t is not None else torch.ones_like(x_t[:, :1])
        st_f, st_b = model.styles(x_t, m_t_image)
        # Eq. 5: s12^f vs s2^f
        s_f = s_f + style_reconstruction(st_f, e_ex.style_f)
        if st_b is not None:
            # Eq. 6: s12^b vs s1^b
            s_b = s_b + style_reconstruction(st_b, e_in.style_b)
        # Eq. 7: c12 vs c1
        cont = cont + content_reconstruction(c_t, e_in.content)
        m_back = m_t if m_t is not None else e_in.mask
        x_cycle = model.decode(c_t, m_back, e_in.style_f, st_b)  # x121 (x1 as exemplar)
        # Eq. 8: ||x121 - x1||_1
        cyc = cyc + image_reconstruction(x_cycle, x)
        # Eq. 9: ||x11 - x1||_1
        rec = rec + image_reconstruction(x_same, x)
        if model.config.use_masks:
            # Eq. 13: R1 on the content-resolution mask (content detached inside)
            r1 = r1 + r1_mask_similarity(e_in.mask, e_in.content, r1_reduction)
            # Eq. 15: E ||m||_1
            r3 = r3 + r3_mask_size(e_in.mask_image)
    if model.config.use_masks:
        # Eq. 14: -E||s1^f - s2^f||_1
        r2 = r2_style_difference(p.e1.style_f, p.e2.style_f)
    # Eq. 16, L_G = L_adv + l_cls L_cls_f + l_sc (L_sf + L_sb + L_c) + l_x (L_cyc + L_x) + l_i R_i
    total = (adv + weights.cls * cls + weights.style_content * (s_f + s_b + cont)
             + weights.x * (cyc + rec)
             + weights.r1 * r1 + weights.r2 * r2 + weights.r3 * r3)  # fmt: skip
    terms = {"g_adv": adv, "g_cls_fake": cls, "g_style_f": s_f, "g_style_b": s_b,
             "g_content": cont, "g_cycle": cyc, "g_rec": rec, "r1": r1, "r2": r2, "r3": r3,
             "g_total": total}  # fmt: skip
    return total, terms
