"""Discriminator builders: shapes, heads, spectral norm, multiscale pooling."""

import pytest
import torch
import torch.nn.functional as F

from maskstyle.gan import ConvDiscriminator, MultiscaleDiscriminator, StarGANDiscriminator
from maskstyle.gan.discriminators import conv_output_size


def test_patchgan_shapes_and_features():
    d = ConvDiscriminator(channels=(8, 16, 32, 32), strides=(2, 2, 2, 1))
    out, feats = d(torch.rand(2, 3, 64, 64), return_features=True)
    # 64 -> 32 -> 16 -> 8 -> 7 (stride 1, k 4, p 1) -> head 6
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 7]
    assert out.shape == (2, 1, 6, 6)
    assert conv_output_size(8, 4, 1, 1) == 7


def test_linear_head_genegan_sizes():
    d = ConvDiscriminator(channels=(128, 256, 512, 512), head="linear", input_size=64)
    assert d.head.in_features == 512 * 4 * 4
    assert d(torch.rand(2, 3, 64, 64)).shape == (2, 1)
    with pytest.raises(ValueError, match="input_size=32"):
        d(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="needs input_size"):
        ConvDiscriminator(head="linear")
    # the first conv has no norm, the others do (GeneGAN code, pix2pix, DCGAN)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.blocks[0])
    assert all(any(isinstance(m, torch.nn.BatchNorm2d) for m in b) for b in d.blocks[1:])


def test_spectral_norm_normalises_the_weight():
    d = ConvDiscriminator(channels=(4, 8), spectral=True, norm="none")
    conv = d.blocks[1][0]
    assert hasattr(conv, "parametrizations")
    d.train()
    for _ in range(30):  # power iterations converge
        d(torch.rand(1, 3, 16, 16))
    d.eval()
    sigma = torch.linalg.matrix_norm(conv.weight.reshape(conv.weight.shape[0], -1), ord=2)
    assert sigma.item() == pytest.approx(1.0, abs=1e-2)


def test_multiscale_sees_pooled_input():
    class Mean(torch.nn.Module):
        def forward(self, x, return_features=False):
            return (x.mean(dim=(1, 2, 3)), [x]) if return_features else x.mean(dim=(1, 2, 3))

    d = MultiscaleDiscriminator(Mean, num_scales=3)
    x = torch.rand(1, 3, 16, 16)
    outs, feats = d(x, return_features=True)
    assert [f[0].shape[-1] for f in feats] == [16, 8, 4]
    pooled = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    assert torch.allclose(feats[1][0], pooled)
    assert len(outs) == 3


def test_stargan_heads():
    d = StarGANDiscriminator(image_size=32, num_classes=5, conv_dim=4, repeat_num=3)
    src, cls = d(torch.rand(2, 3, 32, 32))
    assert src.shape == (2, 1, 4, 4) and cls.shape == (2, 5)
    with pytest.raises(ValueError, match="divisible"):
        StarGANDiscriminator(image_size=30, repeat_num=3)


def test_stargan_normalisation_option():
    """norm="batch" puts a BatchNorm2d after each strided conv and normalises each channel over
    the batch; the default keeps StarGAN's layers and parameter names (old checkpoints load)."""
    plain = StarGANDiscriminator(image_size=32, num_classes=5, conv_dim=4, repeat_num=3)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert [k for k in plain.state_dict() if k.startswith("main.")] == [
        "main.0.weight", "main.0.bias", "main.2.weight", "main.2.bias",
        "main.4.weight", "main.4.bias"]
    normed = StarGANDiscriminator(image_size=32, num_classes=5, conv_dim=4, repeat_num=3,
                                  norm="batch")
    norms = [m for m in normed.main if isinstance(m, torch.nn.BatchNorm2d)]
    assert [n.num_features for n in norms] == [4, 8, 16]
    x = torch.rand(6, 3, 32, 32)
    h = normed.main[1](normed.main[0](x))  # conv 1 -> BN (train mode: batch statistics)
    assert torch.allclose(h.mean((0, 2, 3)), torch.zeros(4), atol=1e-5)
    assert torch.allclose(h.var((0, 2, 3), unbiased=False), torch.ones(4), atol=1e-3)
    with pytest.raises(ValueError, match="norm must be one of"):
        StarGANDiscriminator(image_size=32, repeat_num=3, norm="layer")
