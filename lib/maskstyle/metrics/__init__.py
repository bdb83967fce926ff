"""Evaluation metrics: full-image PSNR/SSIM, region-restricted variants, background
preservation, stylisation (region colour transfer, content structure SSIM), FID (offline
TF-Inception), LPIPS (only with real backbone weights), timing.

One concept per file: ``pixel`` (PSNR, SSIM), ``masked`` (region metrics), ``stylisation``
(region colour transfer, content structure SSIM), ``frechet`` (FID), ``perceptual`` (LPIPS),
``inception_perceptual`` (a labelled LPIPS substitute), ``diversity`` (mCSD/mOCD),
``harmony`` (harmony classifier, ground-truth harmony error), ``timing``. Images are float
``[B, 3, H, W]`` in [0, 1];
regions are bool masks ``[B, H, W]`` or label maps with ``region=``.
"""

from maskstyle._lazy import lazy_exports

_EXPORTS = {
    "psnr": ".pixel",
    "ssim": ".pixel",
    "ssim_map": ".pixel",
    "masked_psnr": ".masked",
    "masked_ssim": ".masked",
    "background_preservation_error": ".masked",
    "region_mask": "._checks",
    "MetricUnavailableError": "._checks",
    "fid": ".frechet",
    "FIDMeter": ".frechet",
    "frechet_distance": ".frechet",
    "InceptionFeatures": ".frechet",
    "load_fid_inception": ".frechet",
    "default_inception_path": ".frechet",
    "FID_INCEPTION_ENV": ".frechet",
    "lpips": ".perceptual",
    "lpips_available": ".perceptual",
    "lpips_backbone_path": ".perceptual",
    "region_colour_transfer": ".stylisation",
    "content_structure_ssim": ".stylisation",
    "time_call": ".timing",
    "mcsd_mocd": ".diversity",
    "pairwise_diversity": ".diversity",
    "l1_distance": ".diversity",
    "HarmonyClassifier": ".harmony",
    "harmony_score": ".harmony",
    "harmony_error": ".harmony",
    "train_harmony_classifier": ".harmony",
    "InceptionPerceptual": ".inception_perceptual",
    "lpips_substitute": ".inception_perceptual",
    "LPIPS_SUBSTITUTE_LABEL": ".inception_perceptual",
    "TimingResult": ".timing",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
