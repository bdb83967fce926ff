"""GroupDNet-style baseline: the grouped encoder against separate per-class networks, the
KL over present classes, and sampling that redraws only the chosen group's codes."""

import pytest
import torch
import torch.nn.functional as F

from maskstyle.data.labels import LABEL_INDEX
from maskstyle.models.regional_style import GroupDNetBaseline, GroupDNetPrior, GroupedEncoder
from maskstyle.models.regional_style.evaluate import reconstruct, regional_samples, transfer

K = 19
SKIN = [LABEL_INDEX["skin"], LABEL_INDEX["nose"]]


def _batch(b=2, size=16, k=K, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, size, size, generator=g), torch.randint(
        0, k, (b, size, size), generator=g
    )


def _per_class_reference(enc: GroupedEncoder, x: torch.Tensor, labels: torch.Tensor):
    """Each class through its own slice of every grouped layer, one class at a time."""
    k = enc.num_classes
    mus, logvars = [], []
    for c in range(k):
        h = x * (labels == c)[:, None].float()
        for layer in enc.net:
            if isinstance(layer, torch.nn.Conv2d):
                w = layer.weight  # the spectrally normalised weight
                n = w.shape[0] // k
                h = F.conv2d(
                    h, w[c * n : (c + 1) * n], layer.bias[c * n : (c + 1) * n], 2, 1
                )
            elif isinstance(layer, torch.nn.InstanceNorm2d):
                mu = h.mean((2, 3), keepdim=True)
                var = h.var((2, 3), keepdim=True, unbiased=False)
                h = (h - mu) / torch.sqrt(var + 1e-5)
            else:
                h = F.leaky_relu(h, 0.2)
        for fc, out in ((enc.fc_mu, mus), (enc.fc_var, logvars)):
            n = enc.z_dim
            out.append(F.conv2d(h, fc.weight[c * n : (c + 1) * n], fc.bias[c * n : (c + 1) * n]))
    return torch.stack(mus, 1).flatten(2), torch.stack(logvars, 1).flatten(2)


def test_grouped_encoder_equals_separate_per_class_convs():
    torch.manual_seed(0)
    enc = GroupedEncoder(5, image_size=16, ngf=3, z_dim=4).eval()
    x, m = _batch(size=16, k=5)
    x = x * 2 - 1
    mu, logvar = enc(x, m)
    assert mu.shape == logvar.shape == (2, 5, 4)
    ref_mu, ref_logvar = _per_class_reference(enc, x, m)
    torch.testing.assert_close(mu, ref_mu, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(logvar, ref_logvar, atol=1e-5, rtol=1e-4)


def test_a_class_code_ignores_every_other_class_pixels():
    torch.manual_seed(0)
    enc = GroupedEncoder(5, image_size=16, ngf=3, z_dim=4).eval()
    x, m = _batch(size=16, k=5)
    outside = (m != 2)[:, None]
    x2 = torch.where(outside, torch.rand_like(x), x)
    mu, mu2 = enc(x, m)[0], enc(x2, m)[0]
    torch.testing.assert_close(mu[:, 2], mu2[:, 2])
    assert not torch.allclose(mu[:, [0, 1, 3, 4]], mu2[:, [0, 1, 3, 4]])
    with pytest.raises(ValueError, match="must be 16 x 16"):
        enc(torch.rand(1, 3, 8, 8), torch.zeros(1, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="power of two"):
        GroupedEncoder(5, image_size=24)


def _model():
    torch.manual_seed(0)
    return GroupDNetBaseline(image_size=16, ngf=4, num_up=2, z_dim=4, encoder_ngf=2, hidden=4)


def test_kl_is_the_mean_over_present_classes():
    model = _model()
    x, m = _batch()
    m[:, :, :] = torch.where(m == 13, 0, m)  # hair absent everywhere
    out, kl = model(x, m)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    with torch.no_grad():
        mu, logvar = model.encode(x, m)
    terms, count = 0.0, 0
    for b in range(2):
        for k in m[b].unique():
            terms += float(-0.5 * (1 + logvar[b, k] - mu[b, k] ** 2 - logvar[b, k].exp()).mean())
            count += 1
    assert kl.item() == pytest.approx(terms / count, rel=1e-5)


def test_sampling_redraws_only_the_group_codes():
    model = _model().eval()
    x, m = _batch()
    seen = []
    decode = model.decode
    model.decode = lambda labels, codes: seen.append(codes) or decode(labels, codes)
    samples = model.sample(x, m, 3, "skin", generator=torch.Generator().manual_seed(1))
    assert samples.shape == (2, 3, 3, 16, 16)
    codes = seen[0].view(2, 3, K, 4)
    mu = model.encode(x, m)[0]
    others = [k for k in range(K) if k not in SKIN]
    torch.testing.assert_close(codes[:, :, others], mu[:, None, others].expand(2, 3, -1, -1))
    assert not torch.allclose(codes[:, 0, SKIN], codes[:, 1, SKIN])  # new draws per sample
    again = model.sample(x, m, 3, "skin", generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(seen[1], seen[0])  # the same seed, the same codes
    assert again.shape == samples.shape


def test_groupdnet_through_the_evaluation_interface():
    model = _model().eval()
    x, m = _batch()
    assert reconstruct(model, x, m).shape == x.shape
    seen = []
    decode = model.decode
    model.decode = lambda labels, codes: seen.append(codes) or decode(labels, codes)
    model.transfer(x, m, x.flip(0), m.flip(0), torch.zeros(K, dtype=torch.bool))
    model.reconstruct(x, m)
    torch.testing.assert_close(seen[0], seen[1])  # no regions: the target's own codes
    assert transfer(model, x, m, x.flip(0), m.flip(0), "hair").shape == x.shape
    assert regional_samples(model, x, m, "hair", 2).shape == (2, 2, 3, 16, 16)


def test_groupdnet_prior_samples_the_group_rows():
    prior = GroupDNetPrior(4)
    rows = prior.sample("skin", 5, torch.Generator().manual_seed(0))
    assert rows.shape == (5, 2, 4)
    torch.testing.assert_close(rows, prior.sample("skin", 5, torch.Generator().manual_seed(0)))
    styles = torch.zeros(5, K, 4)
    out = prior.insert(styles, "skin", rows)
    torch.testing.assert_close(out[:, SKIN], rows)
    assert out[:, [k for k in range(K) if k not in SKIN]].abs().sum() == 0
    with pytest.raises(ValueError, match="unknown group"):
        prior.sample("eyes", 1)


@pytest.mark.parametrize("method", ["groupdnet", "clade_icpe"])
def test_training_cli_trains_and_reloads_the_new_methods(tmp_path, method):
    from maskstyle.models.regional_style.train import METHODS, load_trained, main

    assert method in METHODS
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = (
            f"--method {method} --size 32 --num-up 2 --ngf 4 --encoder-ngf 2 --style-dim 4 "
            "--faces 2 --steps 1 --batch-size 2 --vgg-layers relu1_1 --ndf 4"
        ).split() + ["--out", str(tmp_path / method)]
        summary = main(args)
    finally:
        torch.set_num_threads(threads)
    assert summary["settings"]["method"] == method and "kl" in summary["final"]
    model = load_trained(tmp_path / method)
    x, m = torch.rand(1, 3, 32, 32), torch.randint(0, K, (1, 32, 32))
    assert reconstruct(model, x, m).shape == (1, 3, 32, 32)
