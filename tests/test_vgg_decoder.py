"""The VGG19 decoder: AdaIN's layout at relu4_1, shapes at every relu layer, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from maskstyle.nn.vgg import VGG19Features
from maskstyle.nn.vgg_decoder import VGGDecoder


def conv_channels(decoder):
    return [(m.in_channels, m.out_channels) for m in decoder.modules() if isinstance(m, nn.Conv2d)]


def test_relu4_1_decoder_is_adain_decoder():
    # pytorch-AdaIN's decoder, written out by hand
    adain = [(512, 256), (256, 256), (256, 256), (256, 256), (256, 128), (128, 128),
             (128, 64), (64, 64), (64, 3)]  # fmt: skip
    decoder = VGGDecoder("relu4_1")
    assert conv_channels(decoder) == adain
    kinds = [type(m) for m in decoder.net]
    assert kinds.count(nn.Upsample) == 3 and kinds.count(nn.ReflectionPad2d) == 9
    assert kinds[-1] is nn.Conv2d  # no ReLU after the last conv
    assert all(m.mode == "nearest" for m in decoder.net if isinstance(m, nn.Upsample))
    assert conv_channels(VGGDecoder("relu3_1")) == [
        (256, 128), (128, 128), (128, 64), (64, 64), (64, 3)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "layer,channels,factor",
    [("relu1_1", 64, 1), ("relu1_2", 64, 1), ("relu2_1", 128, 2), ("relu3_1", 256, 4),
     ("relu3_2", 256, 4), ("relu4_1", 512, 8), ("relu5_1", 512, 16)],
)  # fmt: skip
def test_decoder_shapes_invert_the_encoder(layer, channels, factor):
    decoder = VGGDecoder(layer)
    assert decoder.in_channels == channels and decoder.upsampling == factor
    out = decoder(torch.randn(2, channels, 2, 3))
    assert out.shape == (2, 3, 2 * factor, 3 * factor)


def test_decoder_round_trip_shape_with_encoder():
    encoder = VGG19Features(("relu3_1",), weights="random")
    image = torch.rand(1, 3, 32, 24)
    feat = encoder(image)["relu3_1"]
    decoded = VGGDecoder("relu3_1")(feat)
    assert decoded.shape == image.shape
    assert encoder(decoded.clamp(0, 1))["relu3_1"].shape == feat.shape


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b, c = VGGDecoder("relu3_1", seed=5), VGGDecoder("relu3_1", seed=5), VGGDecoder(seed=6)
    assert torch.equal(torch.rand(3), expected)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.net[1].weight, c.net[1].weight)
    assert "untrained" in a.provenance


def test_bad_input():
    with pytest.raises(ValueError, match="relu layer"):
        VGGDecoder("pool2")
    with pytest.raises(ValueError, match="relu layer"):
        VGGDecoder("relu6_1")
    decoder = VGGDecoder("relu3_1")
    with pytest.raises(ValueError, match="expects 256 channels"):
        decoder(torch.randn(1, 512, 4, 4))
    with pytest.raises(ValueError, match=r"features \[B, C, h, w\]"):
        decoder(torch.randn(256, 4, 4))
