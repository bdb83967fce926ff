"""Table 5's StarGAN-v2-style mapping: shapes, one head per group, training through the
frozen generator only, determinism under a seed."""

import pytest
import torch

from maskstyle.models.regional_style import StarGANv2Mapping, train_stargan_mapping
from maskstyle.models.regional_style.evaluate import regional_samples
from maskstyle.models.regional_style.notebook import fit_stargan_mapping
from maskstyle.models.regional_style.train import build_model
from maskstyle.utils.seed import seed_everything

KW = dict(image_size=32, style_dim=4, ngf=4, encoder_ngf=4, num_up=2, hidden=4, z_dim=4)
TWO = {"a": ("skin",), "b": ("hair",)}  # two one-region groups: heads of the same shape


def _faces(n=6, size=32):
    from maskstyle.models.regional_style.train import FaceWorldStyleSet

    data = FaceWorldStyleSet(n, size, seed=0)
    return data.images, data.labels


def test_shapes_shared_trunk_and_errors():
    mapping = StarGANv2Mapping(4, z_dim=3, hidden=8)
    z = torch.randn(5, 3)
    assert mapping(z, "skin").shape == (5, 2, 4) and mapping(z, "hair").shape == (5, 1, 4)
    assert mapping.sample("hair", 7).shape == (7, 1, 4)
    assert set(mapping.heads) == {"skin", "hair"} and len(mapping.trunk) == 8  # 4 x (Linear, ReLU)
    with pytest.raises(ValueError, match="unknown group"):
        mapping(z, "eyes")
    with pytest.raises(ValueError, match=r"z must be \[B, 3\]"):
        mapping(torch.randn(5, 4), "skin")


def _trained(steps=3):
    seed_everything(0)
    sean = build_model("sean", **KW).eval()
    images, labels = _faces()
    mapping = StarGANv2Mapping(4, groups=TWO, z_dim=3, hidden=8)
    history = train_stargan_mapping(
        mapping, sean, images, labels, steps, batch_size=2, ndf=4, progress=False
    )
    return sean, mapping, history, images, labels


def test_training_moves_only_the_mapping_and_heads_differ(one_thread):
    seed_everything(0)
    before = {k: v.clone() for k, v in build_model("sean", **KW).state_dict().items()}
    sean, mapping, history, images, labels = _trained()
    for k, v in sean.state_dict().items():
        torch.testing.assert_close(v, before[k])  # the generator and encoder stay frozen
    assert len(history) == 3
    assert set(history[0]) == {f"{g}_{t}" for g in TWO for t in ("d", "adv", "sty", "ds")}
    assert all(torch.isfinite(torch.tensor(list(h.values()))).all() for h in history)
    seed_everything(0)
    build_model("sean", **KW)
    untrained = StarGANv2Mapping(4, groups=TWO, z_dim=3, hidden=8)  # the same initial weights
    assert any(
        not torch.equal(a, b) for a, b in zip(mapping.parameters(), untrained.parameters())
    )
    z = torch.randn(4, 3)
    with torch.no_grad():
        assert not torch.allclose(mapping(z, "a"), mapping(z, "b"))  # output depends on the head


def test_training_is_deterministic_under_a_seed(one_thread):
    _, first, hist1, _, _ = _trained(2)
    _, second, hist2, _, _ = _trained(2)
    assert hist1 == hist2
    for a, b in zip(first.parameters(), second.parameters()):
        torch.testing.assert_close(a, b)


def test_notebook_fit_and_sampling_through_the_generator(one_thread):
    seed_everything(0)
    sean = build_model("sean", **KW).eval()
    images, labels = _faces()
    fitted = fit_stargan_mapping(sean, images, labels, steps=1, hidden=8, seed=0, progress=False)
    mapping = fitted["mapping"]
    assert mapping.style_dim == 4 and len(fitted["history"]) == 1
    samples = regional_samples(sean, images[:2], labels[:2], "hair", 3, mapping=mapping)
    assert samples.shape == (2, 3, 3, 32, 32)
