"""DoveNet-style harmonisation (the SEAN+DoveNet baseline): partial convolution, domain
verification, the harmoniser's contract and its training loop."""

import pytest
import torch

from maskstyle.models.regional_style.dovenet import (
    DomainVerifier,
    DoveNetHarmonizer,
    PartialConv2d,
    train_dovenet,
)


def _partial_conv_loop(conv, x, mask):
    """Liu et al. 2018 by the definition, one output pixel at a time (stride 1)."""
    k, p = conv.kernel_size[0], conv.padding[0]
    xp = torch.nn.functional.pad(x * mask, (p,) * 4)
    mp = torch.nn.functional.pad(mask, (p,) * 4)
    b, _, h, w = x.shape
    out = torch.zeros(b, conv.out_channels, h, w)
    new = torch.zeros(b, 1, h, w)
    for n in range(b):
        for i in range(h):
            for j in range(w):
                window_m = mp[n, 0, i:i + k, j:j + k]
                if window_m.sum() == 0:
                    continue
                new[n, 0, i, j] = 1
                window_x = xp[n, :, i:i + k, j:j + k]
                for o in range(conv.out_channels):
                    value = (conv.weight[o] * window_x).sum() * (k * k) / window_m.sum()
                    out[n, o, i, j] = value + conv.bias[o]
    return out, new


def test_partial_conv_matches_its_definition():
    torch.manual_seed(0)
    conv = PartialConv2d(2, 3, 3, padding=1)
    x = torch.randn(2, 2, 6, 5)
    mask = torch.zeros(2, 1, 6, 5)
    mask[0, :, 1:3, 1:4] = 1
    mask[1, :, 4:, :2] = 1
    out, new = conv(x, mask)
    want_out, want_new = _partial_conv_loop(conv, x, mask)
    torch.testing.assert_close(new, want_new)
    torch.testing.assert_close(out, want_out, atol=1e-5, rtol=1e-5)
    full = torch.ones(1, 1, 6, 5)  # inside the image a full mask is a plain convolution
    plain = torch.nn.functional.conv2d(x[:1], conv.weight, conv.bias, padding=1)
    torch.testing.assert_close(conv(x[:1], full)[0][..., 1:-1, 1:-1], plain[..., 1:-1, 1:-1])


def test_domain_codes_see_only_their_region():
    torch.manual_seed(0)
    verifier = DomainVerifier(width=4, depth=3, code_dim=8)
    image = torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 32, 32, dtype=torch.bool)
    mask[:, 8:20, 10:24] = True
    l_f, l_b = verifier.codes(image, mask)
    other = torch.where(mask[:, None], image, torch.rand_like(image))  # new background
    l_f2, l_b2 = verifier.codes(other, mask)
    torch.testing.assert_close(l_f2, l_f)
    assert not torch.allclose(l_b2, l_b)
    torch.testing.assert_close(verifier(image, mask), (l_f * l_b).sum(1))


def test_harmoniser_changes_only_the_foreground_and_checks_its_input():
    torch.manual_seed(0)
    net = DoveNetHarmonizer(width=4, depth=3, code_dim=8).eval()
    composite = torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 32, 32, dtype=torch.bool)
    mask[:, 4:12, 4:12] = True
    out = net(composite, mask)
    assert out.shape == composite.shape and 0 <= out.min() and out.max() <= 1
    torch.testing.assert_close(out * ~mask[:, None], composite * ~mask[:, None])
    assert not torch.allclose(out, composite)
    with pytest.raises(ValueError, match="mask must be"):
        net(composite, mask[:, :16])
    with pytest.raises(ValueError, match="no foreground pixel"):
        net(composite, torch.zeros_like(mask))
    with pytest.raises(ValueError, match="binary"):
        net(composite, mask.float() * 0.5)
    with pytest.raises(ValueError, match="RGB"):
        net(composite[:, :1], mask)


def test_training_lowers_the_reconstruction_error():
    torch.manual_seed(0)
    real = torch.rand(4, 3, 16, 16) * 0.2 + 0.4
    mask = torch.zeros(4, 16, 16, dtype=torch.bool)
    mask[:, 4:12, 4:12] = True
    composite = torch.where(mask[:, None], real * 0.5, real)  # the foreground darkened
    net = DoveNetHarmonizer(width=4, depth=3, code_dim=8)
    history = train_dovenet(net, real, composite, mask, steps=40, batch_size=4, lr=2e-3,
                            progress=False)
    assert set(history[0]) == {"rec", "adv_global", "adv_verify", "g", "d_global", "d_verify",
                               "d"}
    first = sum(h["rec"] for h in history[:5]) / 5
    last = sum(h["rec"] for h in history[-5:]) / 5
    assert last < 0.5 * first
    assert not net.training
    with pytest.raises(ValueError, match="same images"):
        train_dovenet(net, real, composite[:2], mask, steps=1, progress=False)
