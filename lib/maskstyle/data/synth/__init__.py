"""The face world: a procedural, deterministic renderer of labelled faces.

The embedded default dataset of every notebook: faces with a 19-class CelebAMask-HQ mask,
the 40 CelebA attributes, contour landmarks, pose and a pose-invariant unit-sphere face
coordinate per pixel, plus pairs with ground truth (blends, counterfactuals, lighting
series) and painted portraits. Everything is synthetic: results made with it are
face-world results, never paper numbers.
"""

from maskstyle._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "FaceParams": ".params",
    "Geometry": ".params",
    "Identity": ".params",
    "Environment": ".params",
    "Hair": ".params",
    "Objects": ".params",
    "Background": ".params",
    "Clothing": ".params",
    "HAIR_COLOURS": ".params",
    "HAIR_STYLES": ".params",
    "sample_params": ".params",
    "close_up": ".params",
    "render": ".renderer",
    "render_face": ".renderer",
    "CELEBA_ATTRIBUTES": ".attributes",
    "ATTRIBUTE_SOURCES": ".attributes",
    "attributes_from_params": ".attributes",
    "COUNTERFACTUALS": ".pairs",
    "blend_pair": ".pairs",
    "counterfactual_pair": ".pairs",
    "lighting_series": ".pairs",
    "PAINT_STYLES": ".painted",
    "painted_portrait": ".painted",
    "SynthFaces": ".dataset",
    "collate": ".dataset",
    "write_celebamask_hq": ".writer",
    "check_rendered_set": ".check",
    "save_overview_figures": ".figures",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
