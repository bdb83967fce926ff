"""Harmonized regional style transfer and manipulation (Wang et al.): multi-scale encoder
(Eqs. 1-2), regional style mapping (Eqs. 3, 6), multi-region style attention (Eqs. 4-5),
SEAN generator, CNF style fine-tuning (Eqs. 7-8), and the baselines (SEAN, ours w/o SA,
ours w/o softmax, SPADE, CLADE, pix2pixHD-style instance pooling).

Not implemented yet (the issue lists them "where feasible"): CLADE-ICPE's positional
encoding, a GroupDNet-style grouped encoder, SEAN+DoveNet harmonisation, and the
StarGAN-v2 / GroupDNet mapping variants of Table 5."""

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
    "METHODS": ".train",
    "build_model": ".train",
    "load_trained": ".train",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
