"""Fast semantic style transfer (Lu et al. 2017): region-wise feature reconstruction in one
VGG layer (Eqs. 3-5) decoded by a trained inverse network (Eq. 6).

- :mod:`.pipeline` - :class:`FastSemanticStyleTransfer` (encode, reconstruct, decode).
- :mod:`.training` - the decoder's training (Eq. 6 on patch-swapped features), loading.
- :mod:`.feedforward` - the feed-forward baselines (Johnson; Fast-Gatys2016 with guides).
- :mod:`.data` - training pairs and transfer inputs (face world, CelebAMask-HQ, portraits).
"""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "FastSemanticStyleTransfer": ".pipeline",
    "TransferResult": ".pipeline",
    "content_samples": ".data",
    "ablation_settings": ".ablations",
    "run_setting": ".ablations",
    "lambda_tradeoff": ".ablations",
    "decoder_loss": ".training",
    "decoder_folder": ".training",
    "eval_pairs": ".data",
    "two_style_transfer": ".pipeline",
    "decoder_psnr": ".training",
    "TransferNet": ".feedforward",
    "train_transfer_net": ".feedforward",
    "load_decoder": ".training",
    "mixed_features": ".training",
    "style_samples": ".data",
    "total_variation": ".training",
    "train_decoder": ".training",
    "transfer_example": ".data",
    "use_channels_last": ".pipeline",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
