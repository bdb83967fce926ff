"""Shared layers. One concept per file: ``vgg`` (VGG19 slices), ``masks`` (label maps at
feature size), ``stats`` (mean/std, AdaIN), ``patch_swap``, ``local_in``, ..."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "VGG19Features": ".vgg",
    "VGG19_LAYERS": ".vgg",
    "DEFAULT_LAYERS": ".vgg",
    "vgg19_channels": ".vgg",
    "vgg19_downsampling": ".vgg",
    "imagenet_weights_path": ".vgg",
    "WeightsNotFoundError": ".weights",
    "check_label_map": ".masks",
    "resize_labels": ".masks",
    "one_hot_labels": ".masks",
    "mean_std": ".stats",
    "adain": ".stats",
    "patch_swap": ".patch_swap",
    "match_patches": ".patch_swap",
    "patch_labels": ".patch_swap",
    "reconstruct_linear": ".feature_reconstruction",
    "linear_closed_form": ".feature_reconstruction",
    "reconstruct_gram": ".feature_reconstruction",
    "ReconstructionResult": ".feature_reconstruction",
    "VGGDecoder": ".vgg_decoder",
    "gram_matrix": ".gram",
    "region_gram": ".gram",
    "region_mean_std": ".region_stats",
    "broadcast_regions": ".region_stats",
    "RegionStats": ".region_stats",
    "local_in": ".local_in",
    "local_reshuffle": ".local_reshuffle",
    "reshuffle_index": ".local_reshuffle",
    "coords_at": ".local_reshuffle",
    "region_average_pool": ".region_pool",
    "highway_adain": ".highway_adain",
    "instance_norm": ".highway_adain",
    "SPADE": ".spade",
    "SPADEModulation": ".spade",
    "CLADE": ".spade",
    "intra_class_positions": ".icpe",
    "param_free_norm": ".spade",
    "SEAN": ".sean",
    "RegionLinear": ".sean",
    "total_variation": ".total_variation",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
