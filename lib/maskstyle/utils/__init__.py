"""Utilities: seeding (``seed``), image/label-map I/O (``image_io``), tensor/array
conversions (``convert``), the label palette (``palette``), figure grids (``figures``), run
provenance (``provenance``) and the shape contract of inputs (``shapes``)."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "seed_everything": ".seed",
    "seed_worker": ".seed",
    "rng_state": ".seed",
    "set_rng_state": ".seed",
    "load_image": ".image_io",
    "save_image": ".image_io",
    "load_mask": ".image_io",
    "save_mask": ".image_io",
    "to_numpy_image": ".convert",
    "to_tensor_image": ".convert",
    "colorize_mask": ".palette",
    "label_legend": ".palette",
    "image_grid": ".figures",
    "show_images": ".figures",
    "save_figure": ".figures",
    "SavedFigure": ".figures",
    "environment_info": ".provenance",
    "expect_shape": ".shapes",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
