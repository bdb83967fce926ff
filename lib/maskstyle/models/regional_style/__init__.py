"""Harmonized regional style transfer and manipulation (Wang et al.): multi-scale encoder
(Eqs. 1-2), regional style mapping (Eqs. 3, 6), multi-region style attention (Eqs. 4-5),
SEAN generator, CNF style fine-tuning (Eqs. 7-8), and the baselines (SEAN, ours w/o SA,
ours w/o softmax, SPADE, CLADE, CLADE-ICPE, pix2pixHD-style instance pooling, a
GroupDNet-style grouped per-class VAE encoder with the SEAN generator) and Table 5's mapping
variants (StarGAN-v2-style mapping trained through the generator, GroupDNet-style sampling
of the VAE prior), and a DoveNet-style harmoniser for the SEAN+DoveNet baseline."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "MultiScaleStyleEncoder": ".encoder",
    "FUSIONS": ".encoder",
    "MultiRegionStyleAttention": ".attention",
    "swap_regions": ".attention",
    "RegionalGenerator": ".generator",
    "RegionalStyleMapping": ".mapping",
    "StyleMapping": ".mapping",
    "StyleDiscriminator": ".mapping",
    "DEFAULT_GROUPS": ".mapping",
    "StyleCNF": ".cnf",
    "fine_tune_style_space": ".cnf",
    "random_direction": ".cnf",
    "RegionalStyleNet": ".model",
    "RegionalStyleConfig": ".model",
    "VARIANTS": ".model",
    "SPADEBaseline": ".baselines",
    "Pix2PixHDBaseline": ".baselines",
    "GroupedEncoder": ".grouped_encoder",
    "GroupDNetBaseline": ".groupdnet",
    "GroupDNetPrior": ".groupdnet",
    "StarGANv2Mapping": ".stargan_mapping",
    "train_stargan_mapping": ".stargan_mapping",
    "DoveNetHarmonizer": ".dovenet",
    "train_dovenet": ".dovenet",
    "METHODS": ".train",
    "build_model": ".train",
    "load_trained": ".train",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
