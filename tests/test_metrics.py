"""PSNR/SSIM (full and region-restricted), background preservation, LPIPS availability,
timing - each against an independent reference (closed form, brute force, skimage)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

import maskstyle  # noqa: F401  (torchmetrics imports torchvision)
from maskstyle.metrics import (
    MetricUnavailableError,
    TimingResult,
    background_preservation_error,
    lpips,
    lpips_available,
    lpips_backbone_path,
    masked_psnr,
    masked_ssim,
    psnr,
    region_mask,
    ssim,
    ssim_map,
    time_call,
)


def _pair(b=2, h=16, w=20, noise=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(b, 3, h, w, generator=g, dtype=torch.float64)
    pred = (target + noise * torch.randn(b, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)
    return pred, target


def _ssim_reference_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Brute-force SSIM map (Wang et al. Eq. 13), 11x11 Gaussian sigma 1.5, reflect padding."""
    r, sigma, c1, c2 = 5, 1.5, 0.01**2, 0.03**2
    k = np.exp(-(np.arange(-r, r + 1) ** 2) / (2 * sigma**2))
    window = np.outer(k, k) / np.outer(k, k).sum()
    xp = np.pad(x, ((0, 0), (r, r), (r, r)), mode="reflect")
    yp = np.pad(y, ((0, 0), (r, r), (r, r)), mode="reflect")
    out = np.zeros_like(x)
    for c in range(x.shape[0]):
        for i in range(x.shape[1]):
            for j in range(x.shape[2]):
                px = xp[c, i : i + 2 * r + 1, j : j + 2 * r + 1]
                py = yp[c, i : i + 2 * r + 1, j : j + 2 * r + 1]
                mx, my = (window * px).sum(), (window * py).sum()
                vx = (window * px * px).sum() - mx * mx
                vy = (window * py * py).sum() - my * my
                cxy = (window * px * py).sum() - mx * my
                out[c, i, j] = ((2 * mx * my + c1) * (2 * cxy + c2)) / (
                    (mx * mx + my * my + c1) * (vx + vy + c2)
                )
    return out


# --- PSNR -------------------------------------------------------------------------------


def test_psnr_closed_form_known_mse():
    target = torch.full((1, 3, 8, 8), 0.5)
    pred = target + 0.1  # MSE = 0.01 exactly -> 20 dB
    assert psnr(pred, target) == pytest.approx(20.0, abs=1e-4)
    pred2 = target.clone()
    pred2[..., :4, :] += 0.2  # half the pixels off by 0.2: MSE = 0.02
    assert psnr(pred2, target) == pytest.approx(10 * math.log10(1 / 0.02), abs=1e-4)


def test_psnr_per_image_and_identical_is_inf():
    pred, target = _pair()
    per_image = psnr(pred, target, reduction="none")
    assert per_image.shape == (2,)
    for b in range(2):
        mse = ((pred[b] - target[b]) ** 2).mean().item()
        assert per_image[b].item() == pytest.approx(10 * math.log10(1 / mse), rel=1e-6)
    assert math.isinf(psnr(target, target))
    assert psnr(pred[0], target[0]) == pytest.approx(per_image[0].item())  # [C, H, W] input


# --- SSIM -------------------------------------------------------------------------------


def test_ssim_matches_brute_force_reference():
    pred, target = _pair(b=1, h=14, w=12)
    ref = _ssim_reference_map(pred[0].numpy(), target[0].numpy())
    np.testing.assert_allclose(ssim_map(pred, target)[0].numpy(), ref, atol=1e-10)
    assert ssim(pred, target) == pytest.approx(ref.mean(), abs=1e-10)


def test_ssim_interior_matches_skimage():
    pred, target = _pair(b=1, h=24, w=28)
    _, full = structural_similarity(
        pred[0].numpy(), target[0].numpy(), channel_axis=0, data_range=1.0,
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True,
    )  # fmt: skip
    ours = ssim_map(pred, target)[0].numpy()
    np.testing.assert_allclose(ours[:, 5:-5, 5:-5], full[:, 5:-5, 5:-5], atol=1e-10)


def test_ssim_identical_is_one_and_noise_lowers_it():
    _, target = _pair()
    assert ssim(target, target) == pytest.approx(1.0, abs=1e-9)
    low = ssim(*_pair(noise=0.3))
    high = ssim(*_pair(noise=0.05))
    assert low < high < 1.0


def test_ssim_too_small_image():
    with pytest.raises(ValueError, match="at least 6x6"):
        ssim(torch.rand(1, 3, 5, 5), torch.rand(1, 3, 5, 5))


# --- masked metrics ----------------------------------------------------------------------


def _blob_mask(b=2, h=16, w=20):
    mask = torch.zeros(b, h, w, dtype=torch.bool)
    mask[0, 6:11, 7:14] = True
    mask[1, 5:12, 6:10] = True
    mask[1, 2, 2] = True
    return mask


def test_masked_psnr_brute_force_inside_and_outside():
    pred, target = _pair()
    mask = _blob_mask()
    inside = masked_psnr(pred, target, mask, reduction="none")
    outside = masked_psnr(pred, target, mask, inside=False, reduction="none")
    for b in range(2):
        for want, values in ((True, inside), (False, outside)):
            total, count = 0.0, 0
            for i in range(16):
                for j in range(20):
                    if bool(mask[b, i, j]) == want:
                        for c in range(3):
                            total += (pred[b, c, i, j] - target[b, c, i, j]).item() ** 2
                            count += 1
            assert values[b].item() == pytest.approx(10 * math.log10(count / total), rel=1e-9)


def test_masked_psnr_full_mask_equals_psnr_and_ignores_outside():
    pred, target = _pair()
    full = torch.ones(16, 20, dtype=torch.bool)  # [H, W] broadcasts over the batch
    assert masked_psnr(pred, target, full) == pytest.approx(psnr(pred, target))
    mask = _blob_mask()
    changed = pred.clone()
    changed[~mask[:, None].expand_as(pred)] = 0.0  # change only outside the region
    assert masked_psnr(changed, target, mask) == pytest.approx(masked_psnr(pred, target, mask))


def test_masked_ssim_is_region_mean_of_ssim_map():
    pred, target = _pair(b=1, h=14, w=12)
    ref = _ssim_reference_map(pred[0].numpy(), target[0].numpy())
    mask = torch.zeros(1, 14, 12, dtype=torch.bool)
    mask[0, 3:9, 2:7] = True
    expected_in = ref[:, mask[0].numpy()].mean()
    expected_out = ref[:, ~mask[0].numpy()].mean()
    assert masked_ssim(pred, target, mask) == pytest.approx(expected_in, abs=1e-10)
    assert masked_ssim(pred, target, mask, inside=False) == pytest.approx(expected_out, abs=1e-10)


def test_label_map_with_region_names():
    pred, target = _pair(b=1)
    labels = torch.zeros(1, 16, 20, dtype=torch.long)
    labels[0, 2:8, 3:9] = 13  # hair
    labels[0, 9:14, 3:9] = 1  # skin
    as_bool = (labels == 13) | (labels == 1)
    assert masked_psnr(pred, target, labels, region=["hair", 1]) == pytest.approx(
        masked_psnr(pred, target, as_bool)
    )
    assert torch.equal(region_mask(labels, "hair"), labels == 13)


def test_background_preservation_hand_computed():
    original = torch.zeros(1, 3, 10, 10)
    region = torch.zeros(1, 10, 10, dtype=torch.bool)
    region[0, 2:6, 2:6] = True  # 16 edited pixels, 84 background pixels
    output = original.clone()
    output[0, :, 2:6, 2:6] = 0.9  # the edit itself does not count
    output[0, 1, 0, 0] = 0.3  # two background leaks in one channel
    output[0, 2, 9, 9] = 0.6
    expected = (0.3 + 0.6) / (3 * 84)
    assert background_preservation_error(output, original, region) == pytest.approx(expected)
    assert background_preservation_error(original, original, region) == 0.0


def test_masked_errors():
    pred, target = _pair()
    empty = torch.zeros(2, 16, 20, dtype=torch.bool)
    empty[0, 3, 3] = True
    with pytest.raises(ValueError, match=r"no pixels inside the mask in image\(s\) \[1\]"):
        masked_psnr(pred, target, empty)
    with pytest.raises(ValueError, match="no pixels outside"):
        background_preservation_error(pred, target, torch.ones(16, 20, dtype=torch.bool))
    with pytest.raises(ValueError, match="does not match images"):
        masked_ssim(pred, target, torch.ones(2, 8, 10, dtype=torch.bool))
    with pytest.raises(TypeError, match="region="):
        masked_psnr(pred, target, torch.ones(2, 16, 20, dtype=torch.long))
    with pytest.raises(ValueError, match=r"mask\[:, 0\]"):
        masked_psnr(pred, target, torch.ones(2, 1, 16, 20, dtype=torch.bool))
    with pytest.raises(KeyError, match="unknown label 'beard'"):
        masked_psnr(pred, target, torch.ones(2, 16, 20, dtype=torch.long), region="beard")


def test_image_errors():
    x = torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match="same shape"):
        psnr(x, torch.rand(2, 3, 8, 9))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        psnr(x * 255, x)
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        ssim(x * 2 - 1, x)
    with pytest.raises(ValueError, match="channels-last"):
        psnr(torch.rand(2, 8, 8, 3), torch.rand(2, 8, 8, 3))
    with pytest.raises(TypeError, match="255"):
        psnr((x * 255).byte(), (x * 255).byte())
    with pytest.raises(ValueError, match="reduction"):
        psnr(x, x, reduction="sum")


# --- LPIPS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "file"),
    [("alex", "alexnet-owt-7be5be79.pth"), ("vgg", "vgg16-397923af.pth"),
     ("squeeze", "squeezenet1_1-b8a52dc0.pth")],
)  # fmt: skip
def test_lpips_unavailable_without_backbone(tmp_path, monkeypatch, net, file):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / file
    assert lpips_backbone_path(net) == expected
    ok, reason = lpips_available(net)
    assert not ok
    assert str(expected) in reason and "download.pytorch.org" in reason
    with pytest.raises(MetricUnavailableError, match=file):
        lpips(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), net=net)


def test_lpips_rejects_corrupt_backbone(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = lpips_backbone_path("squeeze")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    ok, reason = lpips_available("squeeze")
    assert not ok and "corrupt" in reason


def test_lpips_plumbing_with_stand_in_backbone(tmp_path, monkeypatch):
    """Random stand-in weights (hash check off) exercise the call path; never a result."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = lpips_backbone_path("squeeze")
    path.parent.mkdir(parents=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        torch.save(torchvision.models.squeezenet1_1().state_dict(), path)
    ok, reason = lpips_available("squeeze", verify_hash=False)
    assert ok and "hash NOT verified" in reason
    x, y = _pair(b=2, h=48, w=48, noise=0.2)
    per_image = lpips(x.float(), y.float(), net="squeeze", verify_hash=False, reduction="none")
    assert per_image.shape == (2,) and bool((per_image > 0).all())
    assert lpips(x.float(), x.float(), net="squeeze", verify_hash=False) == pytest.approx(
        0, abs=1e-6
    )
    assert not lpips_available("squeeze")[0]  # with the hash check: stand-in rejected


def test_lpips_unknown_net():
    with pytest.raises(ValueError, match="net must be one of"):
        lpips_available("resnet")


# --- timing -----------------------------------------------------------------------------


def test_time_call_with_fake_clock():
    ticks = iter([0.0, 1.0, 10.0, 12.0, 20.0, 23.0])
    calls = []
    result = time_call(
        lambda a, b=0: calls.append((a, b)), 1, b=2, warmup=2, repeats=3, clock=lambda: next(ticks)
    )
    assert isinstance(result, TimingResult)
    assert calls == [(1, 2)] * 5
    assert result.times == (1.0, 2.0, 3.0)
    assert result.median == 2.0 and result.mean == 2.0 and result.min == 1.0
    assert result.repeats == 3 and result.warmup == 2
    assert result.threads == torch.get_num_threads()
    assert result.torch_version == torch.__version__
    record = result.as_dict()
    assert record["median"] == 2.0 and record["device"] == "cpu"
    assert "2 threads" in str(result) or f"{result.threads} threads" in str(result)


def test_time_call_real_clock_and_device_inference():
    x = torch.rand(4, 4)
    result = time_call(torch.matmul, x, x, warmup=0, repeats=2)
    assert result.device == "cpu" and len(result.times) == 2
    assert all(t >= 0 for t in result.times)


def test_time_call_errors():
    with pytest.raises(ValueError, match="repeats >= 1"):
        time_call(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="callable"):
        time_call(3)
