"""Fast semantic style transfer (Lu et al. 2017): region-wise feature reconstruction in one
VGG layer (Eqs. 3-5) decoded by a trained inverse network (Eq. 6).

- :mod:`.pipeline` - :class:`FastSemanticStyleTransfer` (encode, reconstruct, decode).
- :mod:`.training` - the decoder's training (Eq. 6 on patch-swapped features), loading.
"""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "FastSemanticStyleTransfer": ".pipeline",
    "TransferResult": ".pipeline",
    "decoder_loss": ".training",
    "load_decoder": ".training",
    "mixed_features": ".training",
    "total_variation": ".training",
    "train_decoder": ".training",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
