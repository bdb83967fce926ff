"""Baselines the papers compare against, one family per file: ``gatys`` (backward
optimisation, unguided and with semantic masks), ``blending`` (alpha + Reinhard colour
transfer, Poisson, style blending), ``deep_blending`` (deep image blending, first stage)."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "gatys_transfer": ".gatys",
    "GatysLoss": ".gatys",
    "GatysResult": ".gatys",
    "alpha_blending": ".blending",
    "alpha_blend": ".blending",
    "poisson_blending": ".blending",
    "style_blend": ".blending",
    "StyleBlending": ".blending",
    "reinhard_color_transfer": ".blending",
    "feather_mask": ".blending",
    "region_mask": ".blending",
    "DeepBlending": ".deep_blending",
    "deep_image_blending": ".deep_blending",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
