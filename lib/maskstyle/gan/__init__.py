"""The GAN toolkit shared by the GAN papers (GeneGAN, LOMIT, harmonised regional style).

One concept per file, in SPADE's layout (``models/networks/{loss,discriminator}.py``):

- :mod:`~maskstyle.gan.losses` - adversarial losses (standard, non-saturating, least
  squares, WGAN + weight clipping, WGAN-GP's gradient penalty, hinge) and GAN feature
  matching;
- :mod:`~maskstyle.gan.perceptual` - a VGG19 perceptual loss on
  :class:`maskstyle.nn.vgg.VGG19Features`;
- :mod:`~maskstyle.gan.discriminators` - strided-conv / PatchGAN builder, a multiscale
  wrapper, a StarGAN-style discriminator with source and auxiliary-classifier heads,
  optional spectral norm;
- :mod:`~maskstyle.gan.optim` - TTUR optimiser pairs, Adam/RMSProp builders, GeneGAN's
  exponential learning-rate schedule and the pix2pix linear decay;
- :mod:`~maskstyle.gan.ema` - an exponential moving average of the generator's weights
  (``G_ema``), the model that is evaluated;
- :mod:`~maskstyle.gan.step` - a training step that alternates D and G updates, usable as
  the ``step_fn`` of :class:`maskstyle.train.Trainer` (checkpoints, NaN guard, progress).
"""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "GAN_LOSSES": ".losses",
    "discriminator_loss": ".losses",
    "generator_loss": ".losses",
    "clip_weights": ".losses",
    "gradient_penalty": ".losses",
    "feature_matching_loss": ".losses",
    "PerceptualLoss": ".perceptual",
    "ConvDiscriminator": ".discriminators",
    "MultiscaleDiscriminator": ".discriminators",
    "StarGANDiscriminator": ".discriminators",
    "maybe_spectral_norm": ".discriminators",
    "adam": ".optim",
    "rmsprop": ".optim",
    "ttur_pair": ".optim",
    "exponential_schedule": ".optim",
    "linear_decay_schedule": ".optim",
    "AlternatingGANStep": ".step",
    "weight_ema": ".ema",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
