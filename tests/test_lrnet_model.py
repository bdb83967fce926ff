"""LRNet (Fig. 6): regions, shapes, the two branches and their blending, bad inputs."""

from __future__ import annotations

import pytest
import torch

from maskstyle.data.labels import LABEL_INDEX, NUM_CLASSES
from maskstyle.models.lrnet.losses import lrnet_losses
from maskstyle.models.lrnet.model import LRNet
from maskstyle.models.lrnet.regions import (
    LABEL_TO_LRNET,
    LRNET_FACE_REGIONS,
    LRNET_REGIONS,
    NUM_LRNET_REGIONS,
    region_ids,
    to_lrnet_regions,
)
from maskstyle.nn.local_in import local_in
from maskstyle.nn.masks import resize_labels

SIZE = 48


def toy_pair(seed=0, batch=1):
    """Two aligned 'faces': a skin disc with a nose square, hair above, background around."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    regions = torch.zeros(SIZE, SIZE, dtype=torch.long)
    regions[((yy - 26) ** 2 + (xx - 24) ** 2) < 15**2] = 1
    regions[yy < 10] = 8
    regions[22:30, 20:28] = 2
    regions = regions.expand(batch, -1, -1).clone()
    x_a = torch.rand(batch, 3, SIZE, SIZE, generator=g) * 0.5
    x_b = torch.rand(batch, 3, SIZE, SIZE, generator=g) * 0.5 + 0.5
    return x_a, x_b, regions


@pytest.fixture(scope="module")
def model():
    return LRNet(weights="random", seed=0)


def test_region_mapping_covers_every_label_once():
    assert len(LRNET_REGIONS) == NUM_LRNET_REGIONS == 10 and len(LABEL_TO_LRNET) == NUM_CLASSES
    assert LABEL_TO_LRNET[LABEL_INDEX["u_lip"]] == LRNET_REGIONS.index("mouth")
    assert LABEL_TO_LRNET[LABEL_INDEX["cloth"]] == 0
    labels = torch.arange(NUM_CLASSES).view(1, 1, NUM_CLASSES)
    assert to_lrnet_regions(labels)[0, 0].tolist() == list(LABEL_TO_LRNET)
    assert region_ids(["skin", "nose"]) == (1, 2) and LRNET_FACE_REGIONS == (1, 2, 3, 4, 5, 6, 7)
    with pytest.raises(ValueError, match="CelebAMask-HQ classes"):
        to_lrnet_regions(torch.full((2, 2), 19))
    with pytest.raises(KeyError, match="valid"):
        region_ids(["beard"])


def test_forward_shapes_range_and_determinism(model):
    x_a, x_b, regions = toy_pair(batch=2)
    with torch.no_grad():
        out = model(x_a, x_b, regions, regions)
        again = LRNet(weights="random", seed=0)(x_a, x_b, regions, regions)
    assert out.shape == (2, 3, SIZE, SIZE) and out.min() > 0 and out.max() < 1
    assert torch.equal(out, again)
    assert "random" in model.provenance["encoder"] and "untrained" in model.provenance["decoder"]


def capture_decoder_input(net, *args):
    seen = {}

    def hook(module, inputs, output):  # returns None: the decoder's output is kept
        seen.setdefault("x", inputs[0])

    handle = net.decoder.register_forward_hook(hook)
    with torch.no_grad():
        net(*args)
    handle.remove()
    return seen["x"]


def test_branches_are_blended_into_b_with_the_foreground_mask():
    x_a, x_b, regions = toy_pair()
    net = LRNet(weights="random", seed=0, feature_sigma=0)
    feats = net.encode(torch.cat([x_a, x_b]))
    fa, fb = feats[:1], feats[1:]
    mask = resize_labels(regions, fa.shape[-2:])
    fed = capture_decoder_input(net, x_a, x_b, regions, regions)
    assert fed.shape == (1, 256, SIZE // 2, SIZE // 2)
    fg = net.foreground(mask)[:, None].expand_as(fa)
    expected_in = local_in(fa, fb, mask, mask, regions=LRNET_FACE_REGIONS, num_regions=10)
    torch.testing.assert_close(fed[:, :128][fg], expected_in[fg])
    assert torch.equal(fed[:, :128][~fg], fb[~fg]) and torch.equal(fed[:, 128:][~fg], fb[~fg])
    # the reshuffle branch copies B's features into A's face
    values_b = set(fb[0, 0][mask[0] == 1].tolist())
    assert set(fed[0, 128][mask[0] == 1].tolist()) <= values_b


@pytest.mark.parametrize("branch", ["localin", "reshuffle"])
def test_ablations_feed_the_branch_twice(branch):
    x_a, x_b, regions = toy_pair()
    net = LRNet(weights="random", seed=0, branches=(branch,))
    fed = capture_decoder_input(net, x_a, x_b, regions, regions)
    assert torch.equal(fed[:, :128], fed[:, 128:])


def test_training_step_reaches_the_decoder_only(model):
    x_a, x_b, regions = toy_pair()
    coords = torch.nn.functional.normalize(torch.randn(1, 3, SIZE, SIZE), dim=1)
    features = model.encoder  # relu2_1 only here; the losses need relu1_1 too
    from maskstyle.nn.vgg import VGG19Features

    features = VGG19Features(layers=("relu1_1", "relu2_1"), weights="random")
    total, terms, out = lrnet_losses(model, features, x_a, x_b, regions, regions, coords, coords)
    total.backward()
    assert all(torch.isfinite(v) for v in terms.values()) and set(terms) >= {"rec", "style"}
    assert all(p.grad is not None for p in model.decoder.parameters())
    assert all(p.grad is None for p in model.encoder.parameters())
    model.zero_grad()


def test_bad_inputs(model):
    x_a, x_b, regions = toy_pair()
    with pytest.raises(ValueError, match="one shape"):
        model(x_a, x_b[..., :40], regions, regions)
    with pytest.raises(ValueError, match="at the image size"):
        model(x_a, x_b, regions[:, :40], regions)
    with pytest.raises(ValueError, match="to_lrnet_regions"):
        model(x_a, x_b, regions + 10, regions)
    with pytest.raises(ValueError, match="or for neither"):
        model(x_a, x_b, regions, regions, torch.zeros(1, 3, SIZE, SIZE))
    coords = torch.zeros(1, 3, 40, 40)
    with pytest.raises(ValueError, match="unit-sphere coordinates"):
        model(x_a, x_b, regions, regions, coords, coords)
    with pytest.raises(ValueError, match="H, W > 32"):
        model(x_a[..., :32, :32], x_b[..., :32, :32], regions[:, :32, :32], regions[:, :32, :32])
    with pytest.raises(ValueError, match="branches"):
        LRNet(branches=("localin", "poisson"))
    with pytest.raises(ValueError, match="relu2_1"):
        LRNet(encoder=torch.nn.Identity())


def test_per_call_overrides_of_regions_and_branches():
    x_a, x_b, regions = toy_pair()
    net = LRNet(weights="random", seed=0, feature_sigma=0)
    seen = []
    net.decoder.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    with torch.no_grad():
        net(x_a, x_b, regions, regions, blend_regions=[2], branches=("localin",))
        fb = net.encode(torch.cat([x_a, x_b]))[1:]  # same batch as inside: bit-identical
    fed = seen[-1]
    assert torch.equal(fed[:, :128], fed[:, 128:])
    nose = resize_labels(regions, fb.shape[-2:]) == 2
    outside = (~nose)[:, None].expand_as(fb)
    assert torch.equal(fed[:, :128][outside], fb[outside])
    assert not torch.equal(fed[:, :128][~outside], fb[~outside])
    with pytest.raises(ValueError, match="branches"):
        net(x_a, x_b, regions, regions, branches=())
