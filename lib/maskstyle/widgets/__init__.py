"""Interactive widgets for the notebooks (ipywidgets); their logic is testable headless."""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "FaceWorldExplorer": ".face_world",
    "LRNetDemo": ".lrnet",
    "FastSemanticStyleDemo": ".fast_semantic_style",
    "MaskPainter": ".mask_painter",
    "MaskPainterState": ".mask_painter",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
