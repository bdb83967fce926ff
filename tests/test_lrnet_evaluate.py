"""LRNet evaluation helpers: the oracle rows that show what FID punishes."""

import pytest
import torch


def test_degraded_truths_spoil_only_the_face():
    from types import SimpleNamespace

    from torchvision.transforms.functional import gaussian_blur

    from maskstyle.models.lrnet.evaluate import degraded_truths

    torch.manual_seed(0)
    target = torch.rand(2, 3, 16, 16)
    regions = torch.zeros(2, 16, 16, dtype=torch.int64)
    regions[:, 4:12, 4:12] = 1
    model = SimpleNamespace(foreground=lambda r: r == 1)
    methods = degraded_truths(model, blur_sigma=1.0, colour_gain=(2.0, 1.0, 0.5))
    batch = {"target": target, "regions_a": regions}
    inside = (regions == 1)[:, None].expand(-1, 3, -1, -1)
    blurred = methods["truth_blurred"](batch)
    torch.testing.assert_close(blurred[~inside], target[~inside])
    torch.testing.assert_close(blurred[inside], gaussian_blur(target, [7, 7], [1.0, 1.0])[inside])
    recoloured = methods["truth_recoloured"](batch)
    torch.testing.assert_close(recoloured[~inside], target[~inside])
    expected = target.clone()
    expected[:, 0] = (expected[:, 0] * 2).clamp(max=1)
    expected[:, 2] = expected[:, 2] * 0.5
    torch.testing.assert_close(recoloured[inside], expected[inside])
    with pytest.raises(ValueError, match="ground truth"):
        methods["truth_blurred"]({"regions_a": regions})
    with pytest.raises(ValueError, match="blur_sigma"):
        degraded_truths(model, blur_sigma=0)
