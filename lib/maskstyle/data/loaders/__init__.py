"""Real-dataset loaders (torch Datasets) returning the face world's sample schema.

Each sample is a dict: ``image`` float32 ``[3, H, W]`` in ``[0, 1]``, ``mask`` int64
``[H, W]`` in the 19-class CelebAMask-HQ scheme (datasets with masks), ``attrs``
``{name: bool}`` (datasets with attributes) and provenance ``index``, ``path``,
``dataset``. Missing or corrupt files raise :class:`DatasetFileError` naming the file and
the ``maskstyle data verify NAME --root DIR`` command that checks the whole copy.
"""

from maskstyle.data.loaders._common import (
    IMAGE_EXTENSIONS,
    DatasetFileError,
    MissingDatasetFile,
)
from maskstyle.data.loaders.celeba import CelebA
from maskstyle.data.loaders.celebamask_hq import CelebAMaskHQ
from maskstyle.data.loaders.ffhq import FFHQ
from maskstyle.data.loaders.fpb import FPBPairs
from maskstyle.data.loaders.image_folder import ImageFolder
from maskstyle.data.loaders.lapa import LAPA_TO_CELEBAMASK, LaPa, lapa_to_celebamask

__all__ = [
    "FFHQ",
    "IMAGE_EXTENSIONS",
    "LAPA_TO_CELEBAMASK",
    "CelebA",
    "CelebAMaskHQ",
    "DatasetFileError",
    "FPBPairs",
    "ImageFolder",
    "LaPa",
    "MissingDatasetFile",
    "lapa_to_celebamask",
]
