"""SPADE / CLADE / SEAN blocks, the multi-scale encoder (Eqs. 1-2), MRSA (Eqs. 4-5), the
generator and the assembled model, against brute-force references."""

import math

import pytest
import torch
import torch.nn.functional as F

from maskstyle.models.regional_style import (
    MultiRegionStyleAttention,
    MultiScaleStyleEncoder,
    RegionalGenerator,
    RegionalStyleNet,
    swap_regions,
)
from maskstyle.nn import CLADE, SEAN, SPADE, region_average_pool

K = 5


def _labels(b=2, h=8, w=8, k=K, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, k, (b, h, w), generator=g)


def _instance_norm(x):
    mu = x.mean((2, 3), keepdim=True)
    var = x.var((2, 3), keepdim=True, unbiased=False)
    return (x - mu) / torch.sqrt(var + 1e-5)


def test_spade_matches_its_formula():
    torch.manual_seed(0)
    block = SPADE(4, K, hidden=6)
    x, m = torch.randn(2, 4, 8, 8), _labels()
    onehot = F.one_hot(m, K).permute(0, 3, 1, 2).float()
    mod = block.modulation
    actv = F.relu(F.conv2d(onehot, mod.shared[0].weight, mod.shared[0].bias, padding=1))
    gamma = F.conv2d(actv, mod.gamma.weight, mod.gamma.bias, padding=1)
    beta = F.conv2d(actv, mod.beta.weight, mod.beta.bias, padding=1)
    expected = _instance_norm(x) * (1 + gamma) + beta
    torch.testing.assert_close(block(x, m), expected, atol=1e-4, rtol=1e-4)


def test_clade_looks_up_one_vector_per_class():
    torch.manual_seed(0)
    block = CLADE(3, K)
    with torch.no_grad():
        block.gamma.normal_()
        block.beta.normal_()
    x, m = torch.randn(2, 3, 8, 8), _labels()
    out = block(x, m)
    xn = _instance_norm(x)
    for b in range(2):
        for i in range(8):
            for j in range(8):
                c = m[b, i, j]
                want = xn[b, :, i, j] * (1 + block.gamma[c]) + block.beta[c]
                torch.testing.assert_close(out[b, :, i, j], want, atol=1e-5, rtol=1e-5)


def _sean_reference(block, x, m, codes):
    """SEAN as in the official ACE: loop over samples and regions, masked_scatter."""
    b, _, h, w = x.shape
    d = block.style_dim
    style_map = torch.zeros(b, d, h, w)
    for i in range(b):
        for j in range(block.num_classes):
            area = m[i] == j
            if area.any():
                mu = F.relu(codes[i, j] @ block.style_fc.weight[j] + block.style_fc.bias[j])
                style_map[i][:, area] = mu[:, None].expand(d, int(area.sum()))
    gamma_s = block.conv_gamma(style_map)
    beta_s = block.conv_beta(style_map)
    gamma_o, beta_o = block.spade(m)
    a = 0.5  # sigmoid(0): the blend starts in the middle
    gamma = a * gamma_s + (1 - a) * gamma_o
    beta = a * beta_s + (1 - a) * beta_o
    return _instance_norm(x) * (1 + gamma) + beta


def test_sean_matches_a_loop_over_regions_and_starts_at_half_blend():
    torch.manual_seed(0)
    block = SEAN(4, K, style_dim=6, hidden=5)
    assert torch.sigmoid(block.blend_gamma).item() == 0.5
    assert torch.sigmoid(block.blend_beta).item() == 0.5
    x, m, codes = torch.randn(2, 4, 8, 8), _labels(), torch.randn(2, K, 6)
    m[0][m[0] == 3] = 2  # region 3 absent from sample 0
    torch.testing.assert_close(
        block(x, m, codes), _sean_reference(block, x, m, codes), atol=1e-4, rtol=1e-4
    )


def test_sean_noise_is_per_channel_and_learned():
    torch.manual_seed(0)
    block = SEAN(3, K, style_dim=4, hidden=4)
    x, m, codes = torch.randn(1, 3, 8, 8), _labels(1), torch.randn(1, K, 4)
    torch.testing.assert_close(block(x, m, codes), block(x, m, codes))  # zero-init noise
    with torch.no_grad():
        block.noise_scale.fill_(1.0)
    assert not torch.allclose(block(x, m, codes), block(x, m, codes))


def test_sean_bad_inputs_have_clear_errors():
    block = SEAN(3, K, style_dim=4, hidden=4)
    x = torch.randn(1, 3, 8, 8)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\)"):
        block(x, torch.full((1, 8, 8), K), torch.randn(1, K, 4))
    with pytest.raises(ValueError, match="style_codes must be"):
        block(x, _labels(1), torch.randn(1, K, 5))
    with pytest.raises(ValueError, match="one label map per image"):
        block(x, _labels(2), torch.randn(1, K, 4))


@pytest.mark.parametrize(("resolution", "size"), [("input", 16), ("last", 8)])
def test_encoder_fusion_weights_sum_to_one_and_fuse_all_scales(resolution, size):
    torch.manual_seed(0)
    enc = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, spectral=False, resolution=resolution)
    with torch.no_grad():
        enc.scale_logits.copy_(torch.tensor([0.3, -1.0, 2.0, 0.1, 0.5]))
    alpha = enc.fusion_weights()
    assert alpha.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert (alpha > 0).all()
    want = torch.exp(enc.scale_logits) / torch.exp(enc.scale_logits).sum()  # Eq. 1
    torch.testing.assert_close(alpha, want)
    images = torch.rand(2, 3, 16, 16)
    feats = enc.features(images)
    assert len(feats) == 5 and all(f.shape == (2, 8, size, size) for f in feats)
    fused = sum(a * f for a, f in zip(alpha, feats))  # Eq. 2
    torch.testing.assert_close(enc.fused(images), fused, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("fusion", ["softmax", "linear"])
def test_encoder_last_scale_weight_sets_the_initial_fusion_weights(fusion):
    enc = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, fusion=fusion, last_scale_weight=0.9)
    want = torch.tensor([0.025, 0.025, 0.025, 0.025, 0.9])  # 1 - w shared by the 4 others
    torch.testing.assert_close(enc.fusion_weights().detach(), want)
    equal = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, fusion=fusion)
    torch.testing.assert_close(equal.fusion_weights().detach(), torch.full((5,), 0.2))
    with pytest.raises(ValueError, match=r"must lie in \(0, 1\)"):
        MultiScaleStyleEncoder(K, style_dim=8, ngf=4, fusion=fusion, last_scale_weight=1.0)
    with pytest.raises(ValueError, match="not 'last'"):
        MultiScaleStyleEncoder(K, style_dim=8, ngf=4, fusion="last", last_scale_weight=0.5)


def test_encoder_pools_regions_into_a_style_matrix():
    torch.manual_seed(0)
    # spectral norm in eval mode: no power step
    enc = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, resolution="last").eval()
    images, labels = torch.rand(2, 3, 16, 16), _labels(2, 16, 16)
    styles = enc(images, labels)
    assert styles.shape == (2, K, 8)
    torch.testing.assert_close(styles, region_average_pool(enc.fused(images), labels, K))
    # brute force: mean over the pixels of each region at the fused map's size
    fused, small = (
        enc.fused(images),
        F.interpolate(labels[:, None].float(), 8, mode="nearest-exact")[:, 0].long(),
    )
    for b in range(2):
        for k in range(K):
            pix = small[b] == k
            want = fused[b][:, pix].mean(1) if pix.any() else torch.zeros(8)
            torch.testing.assert_close(styles[b, k], want, atol=1e-5, rtol=1e-5)


def test_encoder_at_input_resolution_keeps_regions_too_small_for_h_over_2():
    """Eq. 2 fused at the input's size: a one-pixel region (gone from the label map at
    ``H/2`` under nearest downsampling) gets its own code; SEAN's pooling gives it zeros."""
    torch.manual_seed(0)
    images = torch.rand(1, 3, 16, 16)
    labels = torch.zeros(1, 16, 16, dtype=torch.long)
    labels[0, 8:, :] = 1
    labels[0, 4, 4] = 2  # even row and column: nearest-exact downsampling to 8 x 8 keeps odd
    ours = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, spectral=False).eval()
    sean = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, fusion="last", spectral=False).eval()
    fused = ours.fused(images)
    assert fused.shape == (1, 8, 16, 16)
    torch.testing.assert_close(ours(images, labels)[0, 2], fused[0, :, 4, 4])
    assert sean(images, labels)[0, 2].abs().sum() == 0
    with pytest.raises(ValueError, match="resolution must be one of"):
        MultiScaleStyleEncoder(K, resolution="half")


def test_encoder_variants_and_bad_inputs():
    sean = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, fusion="last", spectral=False)
    images = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(sean.fused(images), sean.features(images)[-1])
    linear = MultiScaleStyleEncoder(K, style_dim=8, ngf=4, fusion="linear")
    torch.testing.assert_close(linear.fusion_weights(), torch.full((5,), 0.2))
    with pytest.raises(ValueError, match="fusion must be one of"):
        MultiScaleStyleEncoder(K, fusion="max")
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\)"):
        sean(images, torch.full((1, 16, 16), 7))
    with pytest.raises(ValueError, match="do not match images"):
        sean(images, _labels(1, 8, 8))
    with pytest.raises(TypeError, match="integer class ids"):
        sean(images, torch.zeros(1, 16, 16))


def _softmax_rows_loop(scores):
    out = torch.empty_like(scores)
    for b in range(scores.shape[0]):
        for i in range(scores.shape[1]):
            e = [math.exp(v) for v in scores[b, i].tolist()]
            out[b, i] = torch.tensor([v / sum(e) for v in e])
    return out


def test_mrsa_attention_rows_sum_to_one_and_match_the_formula():
    torch.manual_seed(0)
    mrsa = MultiRegionStyleAttention(6)
    with torch.no_grad():
        mrsa.alpha.fill_(0.7)
    s_t, s_r = torch.randn(2, K, 6), torch.randn(2, K, 6)
    regions = torch.tensor([False, True, True, False, False])
    s_r_prime = swap_regions(s_t, s_r, regions)
    assert torch.equal(s_r_prime[:, 1:3], s_r[:, 1:3])
    assert torch.equal(s_r_prime[:, [0, 3, 4]], s_t[:, [0, 3, 4]])
    m = mrsa.attention(s_t, s_r_prime)
    assert m.shape == (2, K, K)
    torch.testing.assert_close(m.sum(-1), torch.ones(2, K))
    q, k, v = mrsa.w_q(s_r_prime), mrsa.w_k(s_t), mrsa.w_v(s_t)
    want_m = _softmax_rows_loop(q @ k.transpose(1, 2) / math.sqrt(6))  # Eq. 4
    torch.testing.assert_close(m, want_m, atol=1e-5, rtol=1e-5)
    out = mrsa(s_t, s_r, regions)
    assert out.shape == s_t.shape
    torch.testing.assert_close(out, s_r_prime + 0.7 * want_m @ v, atol=1e-5, rtol=1e-5)  # Eq. 5


def test_mrsa_starts_as_a_plain_swap_and_masks_absent_regions():
    torch.manual_seed(0)
    mrsa = MultiRegionStyleAttention(6)
    s_t, s_r = torch.randn(1, K, 6), torch.randn(1, K, 6)
    regions = torch.tensor([False, True, False, False, False])
    torch.testing.assert_close(mrsa(s_t, s_r, regions), swap_regions(s_t, s_r, regions))
    present = torch.tensor([[True, True, False, True, False]])
    m = mrsa.attention(s_t, s_t, present)
    assert torch.all(m[..., ~present[0]] == 0)
    torch.testing.assert_close(m.sum(-1), torch.ones(1, K))
    with pytest.raises(ValueError, match="target's shape"):
        mrsa(s_t, torch.randn(1, K + 1, 6), regions)
    with pytest.raises(TypeError, match="bool tensor"):
        mrsa(s_t, s_r, torch.tensor([0, 1, 0, 0, 0]))


def test_generator_shapes_last_block_spade_and_errors():
    torch.manual_seed(0)
    gen = RegionalGenerator(K, image_size=16, ngf=4, num_up=2, style_dim=6, hidden=4)
    assert isinstance(gen.ups[-1].norm_0, SPADE)
    assert isinstance(gen.ups[0].norm_0, SEAN) and isinstance(gen.head.norm_0, SEAN)
    out = gen(_labels(2, 16, 16), torch.randn(2, K, 6))
    assert out.shape == (2, 3, 16, 16) and out.abs().max() <= 1
    with pytest.raises(ValueError, match="style matrix"):
        gen(_labels(2, 16, 16), torch.randn(2, K, 7))
    with pytest.raises(ValueError, match="divisible"):
        RegionalGenerator(K, image_size=20, num_up=3)
    for norm in ("spade", "clade"):
        g = RegionalGenerator(K, image_size=16, ngf=4, num_up=2, norm=norm, z_dim=3, hidden=4)
        assert g(_labels(2, 16, 16), torch.randn(2, 3)).shape == (2, 3, 16, 16)
        assert g(_labels(2, 16, 16)).shape == (2, 3, 16, 16)


def _net(variant):
    torch.manual_seed(0)
    return RegionalStyleNet(
        variant=variant,
        num_classes=K,
        image_size=16,
        style_dim=6,
        encoder_ngf=4,
        generator_ngf=4,
        num_up=2,
        hidden=4,
    )


def test_model_transfer_mixes_only_the_chosen_regions():
    net = _net("sean")
    x, m = torch.rand(2, 3, 16, 16), _labels(2, 16, 16)
    y, my = torch.rand(2, 3, 16, 16), _labels(2, 16, 16, seed=1)
    my[0][my[0] == 2] = 1  # the reference lacks region 2 in sample 0
    s_t, s_r = net.encode(x, m), net.encode(y, my)
    regions = torch.tensor([False, False, True, False, False])
    mixed = net.mix(s_t, s_r, regions, net.present(m), net.present(my))
    torch.testing.assert_close(mixed[0], s_t[0])  # missing in the reference: target kept
    torch.testing.assert_close(mixed[1, 2], s_r[1, 2])
    torch.testing.assert_close(mixed[1, [0, 1, 3, 4]], s_t[1, [0, 1, 3, 4]])
    out = net.transfer(x, m, y, my, regions)
    assert out.shape == (2, 3, 16, 16) and out.min() >= 0 and out.max() <= 1
    assert _net("ours").attention is not None and _net("ours_no_sa").attention is None
    with pytest.raises(ValueError, match="variant must be one of"):
        _net("groupdnet")
