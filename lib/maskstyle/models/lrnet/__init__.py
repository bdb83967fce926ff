"""LRNet face blending (Zheng et al. 2020): the network, its losses, the FPB pair generator
and LRNet's 10 face regions. Layers live in :mod:`maskstyle.nn` (``local_in``,
``local_reshuffle``, ``region_stats``); baselines in :mod:`maskstyle.baselines.blending`."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "lrnet_pairs": ".real_data",
    "FPBBlendPairs": ".real_data",
    "CelebAMaskHQBlendPairs": ".real_data",
    "LRNet": ".model",
    "LRNetDecoder": ".model",
    "BRANCHES": ".model",
    "LRNET_REGIONS": ".regions",
    "LRNET_REGION_LABELS": ".regions",
    "LABEL_TO_LRNET": ".regions",
    "LRNET_FACE_REGIONS": ".regions",
    "NUM_LRNET_REGIONS": ".regions",
    "to_lrnet_regions": ".regions",
    "region_ids": ".regions",
    "LAMBDAS": ".losses",
    "LossWeights": ".losses",
    "reconstruction_loss": ".losses",
    "cycle_loss": ".losses",
    "gradient_loss": ".losses",
    "local_style_loss": ".losses",
    "total_loss": ".losses",
    "lrnet_losses": ".losses",
    "FaceAttributes": ".fpb",
    "FPBConfig": ".fpb",
    "FPBResult": ".fpb",
    "generate_pair": ".fpb",
    "fpb_loss": ".fpb",
    "stop_criteria": ".fpb",
    "FPBStandins": ".standins",
    "train_fpb_standins": ".standins",
    "FaceWorldBlendPairs": ".data",
    "collate_pairs": ".data",
    "split_indices": ".data",
    "build_lrnet": ".train",
    "train_lrnet": ".train",
    "load_trained_lrnet": ".train",
    "baseline_methods": ".evaluate",
    "evaluate_blending": ".evaluate",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
