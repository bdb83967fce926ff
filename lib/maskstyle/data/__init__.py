"""Data: the label scheme, the procedural face world, real datasets and face parsing."""

from maskstyle._lazy import lazy_exports
from maskstyle.data.labels import (
    CELEBAMASK_HQ_PARTS,
    FACE_REGIONS,
    LABEL_INDEX,
    LABELS,
    NUM_CLASSES,
    PALETTE,
    label_id,
)

_EXPORTS: dict[str, str] = {
    # the face world
    "SynthFaces": ".synth",
    "sample_params": ".synth",
    "render_face": ".synth",
    "blend_pair": ".synth",
    "counterfactual_pair": ".synth",
    "lighting_series": ".synth",
    "painted_portrait": ".synth",
    "write_celebamask_hq": ".synth",
    "render": ".synth",
    "FaceParams": ".synth",
    "save_overview_figures": ".synth",
    "check_rendered_set": ".synth",
    # real data
    "load_manifest": ".manifests",
    "list_manifests": ".manifests",
    "verify_dataset": ".manifests",
    "VerifyReport": ".manifests",
    "CelebA": ".loaders",
    "CelebAMaskHQ": ".loaders",
    "FFHQ": ".loaders",
    "LaPa": ".loaders",
    "ImageFolder": ".loaders",
    "FPBPairs": ".loaders",
    "DatasetFileError": ".loaders",
    "MissingDatasetFile": ".loaders",
    "LAPA_TO_CELEBAMASK": ".loaders",
    "PortraitFolder": ".portraits",
    # photos (mediapipe is imported only when parse_face runs)
    "parse_face": ".parse_face",
    "NoFaceFoundError": ".parse_face",
    "face_coords": ".face_coords",
    "face_landmarks_3d": ".face_coords",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = [
    "CELEBAMASK_HQ_PARTS",
    "FACE_REGIONS",
    "LABEL_INDEX",
    "LABELS",
    "NUM_CLASSES",
    "PALETTE",
    "label_id",
    *sorted(_EXPORTS),
]
