"""LOMIT (local mask-based image translation with highway AdaIN): networks
(:mod:`.model`), losses of Eqs. 5-16 (:mod:`.losses`), multi-attribute domains with true
regions (:mod:`.data`), training (:mod:`.train`) and evaluation (:mod:`.evaluate`).
HAdaIN itself is :func:`maskstyle.nn.highway_adain`; the GAN pieces are :mod:`maskstyle.gan`."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "LOMIT": ".model",
    "LOMITConfig": ".model",
    "Encoded": ".model",
    "erase_box": ".model",
    "erase_region": ".model",
    "LossWeights": ".losses",
    "PAPER_WEIGHTS": ".losses",
    "lr_factor": ".losses",
    "r1_mask_similarity": ".losses",
    "r2_style_difference": ".losses",
    "r3_mask_size": ".losses",
    "classification_loss": ".losses",
    "translate_pair": ".losses",
    "generator_losses": ".losses",
    "discriminator_losses": ".losses",
    "check_pair_domains": ".losses",
    "ATTRIBUTES": ".data",
    "REGION_TAGS": ".data",
    "FaceWorldDomains": ".data",
    "CelebADomains": ".data",
    "DomainPairs": ".data",
    "translation_region": ".data",
    "TrainConfig": ".train",
    "train_lomit": ".train",
    "load_trained": ".train",
    "load_trained_critic": ".train",
    "build_discriminator": ".train",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
