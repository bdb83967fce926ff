"""The feed-forward baselines: Johnson's transfer net and Fast-Gatys2016's guided one."""

from __future__ import annotations

import pytest
import torch

from maskstyle.models.fast_semantic_style.feedforward import (
    FeedForwardLoss,
    TransferNet,
    group_labels,
    guide_maps,
    style_targets,
    train_transfer_net,
)
from maskstyle.nn.gram import region_gram
from maskstyle.nn.vgg import VGG19Features


def test_shapes_with_and_without_mask_channels():
    image = torch.rand(2, 3, 16, 20)
    plain = TransferNet(width=4, residual_blocks=1)
    with torch.no_grad():
        out = plain(image)
    assert out.shape == image.shape and 0 <= float(out.min()) and float(out.max()) <= 1
    guided = TransferNet(guide_channels=3, width=4, residual_blocks=1)
    assert guided.net[0][1].in_channels == 6  # RGB + 3 guide channels
    mask = torch.randint(0, 3, (2, 16, 20))
    guides = guide_maps(mask, 3)
    assert guides.shape == (2, 3, 16, 20) and torch.equal(guides.argmax(1), mask)
    assert guided(image, guides).shape == image.shape
    # the guides reach the output: other guides, other image
    assert not torch.allclose(guided(image, guides), guided(image, guide_maps(2 - mask, 3)))
    with pytest.raises(ValueError, match="guides"):
        guided(image)
    with pytest.raises(ValueError, match="no guide channels"):
        plain(image, guides)
    with pytest.raises(ValueError, match="divisible by 4"):
        plain(torch.rand(1, 3, 18, 20))


def test_groups_map_labels_to_guides():
    mask = torch.tensor([[[0, 1, 2, 5]]])
    assert group_labels(mask, [[0], [1, 2]]).tolist() == [[[0, 1, 1, 1]]]  # rest -> last guide
    assert group_labels(mask, None).tolist() == mask.tolist()


def test_style_targets_and_loss_against_region_gram():
    enc = VGG19Features(("relu1_1", "relu2_1"), weights="random", seed=0)
    style = torch.rand(1, 3, 16, 16)
    s_mask = torch.zeros(1, 16, 16, dtype=torch.long)
    s_mask[..., 8:] = 1
    targets = style_targets(enc, style, s_mask, ("relu1_1",), 3)
    assert targets.valid.tolist() == [True, True, False]
    ref, _ = region_gram(enc(style)["relu1_1"], s_mask, 3)
    torch.testing.assert_close(targets.grams["relu1_1"], ref[0])
    two = style_targets(enc, torch.rand(2, 3, 16, 16), None, ("relu1_1",), 2)
    assert two.grams["relu1_1"].shape[0] == 2 and two.valid.all()
    loss = FeedForwardLoss(enc, targets, content_layers=("relu2_1",))
    content = torch.rand(1, 3, 16, 16)
    # an output equal to the style (same layout) has zero style loss, non-zero content loss
    terms = loss(style, content, s_mask)
    assert float(terms["style"]) < 1e-9 and float(terms["content"]) > 0


def test_training_lowers_the_loss():
    torch.manual_seed(0)
    enc = VGG19Features(("relu1_1", "relu2_1"), weights="random", seed=0)
    style = torch.rand(1, 3, 16, 16)
    net = TransferNet(guide_channels=2, width=4, residual_blocks=1)
    targets = style_targets(enc, style.expand(2, -1, -1, -1), None, ("relu1_1", "relu2_1"), 2)
    loss = FeedForwardLoss(enc, targets, content_layers=("relu2_1",), style_weight=1e4)
    content = torch.rand(2, 3, 16, 16)
    mask = torch.randint(0, 2, (2, 16, 16))

    def batches():
        while True:
            yield {"content": content, "content_mask": mask}

    run = train_transfer_net(net, loss, batches(), steps=12, lr=1e-2, progress=False)
    assert run.history[-1]["total"] < 0.7 * run.history[0]["total"]
    assert "trained 12 steps" in net.provenance
