"""GeneGAN (Zhou et al. 2017): object transfiguration from two unpaired sets.

The encoder splits an image's code into a background part and an object part; the decoder
recombines any background with any object (:mod:`.model`); the losses of Eqs. 3-5 and the
baselines' (:mod:`.losses`, :mod:`.baselines`); object operations (remove, transplant,
swap, Eq. 6's interpolation: :mod:`.operations`); data split by one attribute
(:mod:`.data`); an attribute classifier and counterfactual metrics (:mod:`.classifier`,
:mod:`.evaluate`); training (``python -m maskstyle.models.genegan.train``). Shared GAN
pieces live in :mod:`maskstyle.gan`.
"""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "GeneGAN": ".model",
    "Encoder": ".model",
    "Decoder": ".model",
    "CyclicGAN": ".baselines",
    "GeneGANWeights": ".losses",
    "parallelogram_loss": ".losses",
    "genegan_generator_loss": ".losses",
    "genegan_discriminator_loss": ".losses",
    "stacked_generator_loss": ".losses",
    "cyclic_generator_loss": ".losses",
    "remove": ".operations",
    "transplant": ".operations",
    "swap": ".operations",
    "bilinear_codes": ".operations",
    "interpolation_grid": ".operations",
    "face_world_sets": ".data",
    "celeba_sets": ".data",
    "counterfactual_set": ".data",
    "AttributeClassifier": ".classifier",
    "train_attribute_classifier": ".classifier",
    "evaluate_edits": ".evaluate",
    "TrainSettings": ".train",
    "load_trained": ".train",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
