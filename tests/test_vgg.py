"""VGG19Features: layer table vs torchvision, slicing, weights sources, errors."""

from __future__ import annotations

import pytest
import torch

import maskstyle  # noqa: F401  (makes torchvision importable on this machine)
from maskstyle.nn.vgg import (
    VGG19_IMAGENET_URL,
    VGG19_LAYERS,
    VGG19Features,
    WeightsNotFoundError,
    imagenet_weights_path,
    vgg19_channels,
    vgg19_downsampling,
)
from maskstyle.nn.weights import sha256_file

RELU_X_1 = {"relu1_1": (1, 64, 1), "relu2_1": (6, 128, 2), "relu3_1": (11, 256, 4),
            "relu4_1": (20, 512, 8), "relu5_1": (29, 512, 16)}  # fmt: skip


@pytest.fixture(scope="module")
def torchvision_features() -> torch.nn.Sequential:
    """torchvision's own VGG19 feature stack (independent reference), seeded random init."""
    from torchvision.models.vgg import cfgs, make_layers  # after maskstyle's torchvision shim

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        return make_layers(cfgs["E"]).eval()


def _normalise(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (x - mean) / std


def test_layer_table_matches_torchvision(torchvision_features):
    names = list(VGG19_LAYERS)
    assert names[0] == "conv1_1" and names[-1] == "relu5_1"
    assert list(VGG19_LAYERS.values()) == list(range(30))
    for name, i in VGG19_LAYERS.items():
        module = torchvision_features[i]
        kind = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}
        assert isinstance(module, kind[name[:4]]), (name, module)
        if name.startswith("conv"):
            assert module.out_channels == vgg19_channels(name)


def test_url_is_torchvisions():
    from torchvision.models import VGG19_Weights

    assert VGG19_Weights.IMAGENET1K_V1.url == VGG19_IMAGENET_URL


@pytest.mark.parametrize("layer", sorted(RELU_X_1))
def test_relu_x_1_index_channels_stride(layer):
    index, channels, stride = RELU_X_1[layer]
    assert VGG19_LAYERS[layer] == index
    assert vgg19_channels(layer) == VGG19Features.channels(layer) == channels
    assert vgg19_downsampling(layer) == VGG19Features.downsampling(layer) == stride


def test_all_relu_x_1_shapes_in_one_pass_and_order():
    layers = ("relu3_1", "relu1_1", "relu5_1", "relu2_1", "relu4_1")
    vgg = VGG19Features(layers, weights="random")
    assert len(vgg.features) == 30  # sliced at the deepest requested layer (index 29)
    out = vgg(torch.rand(2, 3, 32, 48))
    assert tuple(out) == layers
    for name, feat in out.items():
        _, channels, stride = RELU_X_1[name]
        assert feat.shape == (2, channels, 32 // stride, 48 // stride)


def test_slices_only_up_to_deepest_layer():
    assert len(VGG19Features(("relu3_1",), weights="random").features) == 12
    assert len(VGG19Features("pool1", weights="random").features) == 5


def test_conv_and_following_relu_both_returned_intact():
    vgg = VGG19Features(("conv1_1", "relu1_1"), weights="random")
    out = vgg(torch.rand(1, 3, 16, 16))
    assert (out["conv1_1"] < 0).any()  # not overwritten by an in-place ReLU
    torch.testing.assert_close(out["relu1_1"], out["conv1_1"].clamp(min=0))


def test_random_weights_seeded_and_independent_of_global_rng():
    x = torch.rand(1, 3, 16, 16)
    state = torch.get_rng_state()
    a = VGG19Features(("relu2_1",), weights="random", seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # global RNG untouched
    torch.manual_seed(999)
    b = VGG19Features(("relu2_1",), weights="random", seed=3)
    c = VGG19Features(("relu2_1",), weights="random", seed=4)
    assert torch.equal(a(x)["relu2_1"], b(x)["relu2_1"])
    assert not torch.allclose(a(x)["relu2_1"], c(x)["relu2_1"])
    assert "random init" in a.provenance and "seed 3" in a.provenance
    assert "NOT" in a.provenance and a.weights_kind == "random"


def test_random_init_matches_torchvision_scheme():
    vgg = VGG19Features(("relu1_2",), weights="random", seed=0)
    w = vgg.features[2].weight  # conv1_2: fan_out = 64 * 3 * 3
    assert abs(float(w.std()) - (2.0 / (64 * 9)) ** 0.5) < 0.01
    assert torch.all(vgg.features[2].bias == 0)


def test_missing_imagenet_file_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert imagenet_weights_path() == expected
    with pytest.raises(WeightsNotFoundError) as info:
        VGG19Features(weights="imagenet")
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert str(expected) in message
    assert VGG19_IMAGENET_URL in message
    assert str(expected.parent) in message


def test_missing_path_error(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="nope.pth"):
        VGG19Features(weights=tmp_path / "nope.pth")


def _save_subset(features: torch.nn.Sequential, path, upto: int, prefix: str) -> None:
    state = {f"{prefix}{k}": v for k, v in features.state_dict().items()
             if int(k.split(".")[0]) <= upto}  # fmt: skip
    torch.save(state, path)


@pytest.mark.parametrize("prefix", ["features.", ""])
def test_load_from_path_matches_torchvision(tmp_path, torchvision_features, prefix):
    path = tmp_path / "vgg_subset.pth"
    _save_subset(torchvision_features, path, upto=11, prefix=prefix)
    vgg = VGG19Features(("relu3_1", "relu1_1"), weights=path)
    x = torch.rand(2, 3, 24, 20)
    out = vgg(x)
    with torch.no_grad():
        ref1 = torchvision_features[:2](_normalise(x))
        ref3 = torchvision_features[:12](_normalise(x))
    torch.testing.assert_close(out["relu1_1"], ref1)
    torch.testing.assert_close(out["relu3_1"], ref3)
    assert vgg.weights_kind == "file"
    assert str(path.resolve()) in vgg.provenance and sha256_file(path)[:12] in vgg.provenance


def test_imagenet_path_loads_hub_file(tmp_path, monkeypatch, torchvision_features):
    """The imagenet branch: file found in the hub cache, hash prefix checked, loaded."""
    raw = tmp_path / "raw.pth"
    _save_subset(torchvision_features, raw, upto=6, prefix="features.")
    digest = sha256_file(raw)
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    raw.rename(checkpoints / f"vgg19-{digest[:8]}.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(
        "maskstyle.nn.vgg.VGG19_IMAGENET_URL", f"https://example.invalid/vgg19-{digest[:8]}.pth"
    )
    vgg = VGG19Features(("relu2_1",), weights="imagenet")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        ref = torchvision_features[:7](_normalise(x))
    torch.testing.assert_close(vgg(x)["relu2_1"], ref)
    assert vgg.weights_kind == "imagenet" and "ImageNet" in vgg.provenance
    assert digest[:12] in vgg.provenance


def test_hash_mismatch_in_file_name(tmp_path, torchvision_features):
    path = tmp_path / "vgg19-dcbb9e9d.pth"
    _save_subset(torchvision_features, path, upto=1, prefix="")
    with pytest.raises(ValueError, match="sha256 starting with dcbb9e9d"):
        VGG19Features(("relu1_1",), weights=path)


def test_state_dict_missing_keys_and_wrong_shapes(tmp_path, torchvision_features):
    short = tmp_path / "short.pth"
    _save_subset(torchvision_features, short, upto=1, prefix="")
    with pytest.raises(ValueError, match="missing 2.weight"):
        VGG19Features(("relu2_1",), weights=short)
    wrong = tmp_path / "wrong.pth"
    torch.save({"0.weight": torch.zeros(32, 3, 3, 3), "0.bias": torch.zeros(32)}, wrong)
    with pytest.raises(ValueError, match="shape"):
        VGG19Features(("relu1_1",), weights=wrong)
    not_dict = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), not_dict)
    with pytest.raises(ValueError, match="state dict"):
        VGG19Features(("relu1_1",), weights=not_dict)


def test_frozen_but_gradient_reaches_input():
    vgg = VGG19Features(("relu1_1", "relu2_1"), weights="random")
    assert not vgg.training
    assert all(not p.requires_grad for p in vgg.parameters())
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    out = vgg(x)
    (out["relu2_1"].square().mean() + out["relu1_1"].mean()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in vgg.parameters())


def test_deterministic_forward():
    vgg = VGG19Features(("relu3_1",), weights="random")
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(vgg(x)["relu3_1"], vgg(x)["relu3_1"])


def test_bad_inputs():
    vgg = VGG19Features(("relu2_1",), weights="random")
    with pytest.raises(ValueError, match=r"x\[None\]"):
        vgg(torch.rand(3, 16, 16))
    with pytest.raises(ValueError, match="grayscale"):
        vgg(torch.rand(1, 1, 16, 16))
    with pytest.raises(ValueError, match="channels-last"):
        vgg(torch.rand(1, 16, 16, 3))
    with pytest.raises(TypeError, match="255"):
        vgg(torch.randint(0, 255, (1, 3, 16, 16), dtype=torch.uint8))
    with pytest.raises(ValueError, match="too small"):
        vgg(torch.rand(1, 3, 1, 16))
    with pytest.raises(TypeError, match="torch.Tensor"):
        vgg([[0.0]])
    with pytest.warns(UserWarning, match=r"expects RGB in \[0, 1\]"):
        vgg(torch.rand(1, 3, 16, 16) * 255)


def test_slight_range_excursion_allowed(recwarn):
    vgg = VGG19Features(("relu1_1",), weights="random")
    vgg(torch.rand(1, 3, 8, 8) * 1.2 - 0.1)
    assert not [w for w in recwarn if "expects RGB" in str(w.message)]


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="unknown VGG19 layer 'relu6_1'"):
        VGG19Features(("relu6_1",), weights="random")
    with pytest.raises(ValueError, match="at least one"):
        VGG19Features((), weights="random")
    with pytest.raises(ValueError, match="duplicates"):
        VGG19Features(("relu1_1", "relu1_1"), weights="random")
    with pytest.raises(TypeError, match="weights must be"):
        VGG19Features(("relu1_1",), weights=3)
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        vgg19_channels("fc7")
