"""The fast semantic style transfer pipeline and its decoder training (Eq. 6)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from maskstyle.models.fast_semantic_style import (
    FastSemanticStyleTransfer,
    decoder_loss,
    load_decoder,
    mixed_features,
    total_variation,
    train_decoder,
)
from maskstyle.nn.feature_reconstruction import reconstruct_linear
from maskstyle.nn.masks import resize_labels
from maskstyle.nn.patch_swap import patch_swap
from maskstyle.nn.vgg import VGG19Features
from maskstyle.nn.vgg_decoder import VGGDecoder


@pytest.fixture(scope="module")
def encoder():
    return VGG19Features(("relu3_1", "relu4_1"), weights="random")


@pytest.fixture(scope="module")
def encoder3():
    return VGG19Features(("relu3_1",), weights="random")


@pytest.fixture(scope="module")
def pipeline(encoder):
    decoders = {"relu3_1": VGGDecoder("relu3_1"), "relu4_1": VGGDecoder("relu4_1")}
    return FastSemanticStyleTransfer(decoders, encoder)


def _pair(seed=0, b=1, size=32):
    g = torch.Generator().manual_seed(seed)
    content, style = (
        torch.rand(b, 3, size, size, generator=g),
        torch.rand(b, 3, size, size, generator=g),
    )
    c_mask = torch.zeros(b, size, size, dtype=torch.long)
    c_mask[:, size // 2 :] = 1
    return content, style, c_mask, c_mask.flip(1)


def test_total_variation_against_loops():
    image = torch.rand(2, 3, 4, 5)
    ref = 0.0
    for b, c, y, x in itertools.product(range(2), range(3), range(4), range(5)):
        if x + 1 < 5:
            ref += float((image[b, c, y, x + 1] - image[b, c, y, x]) ** 2)
        if y + 1 < 4:
            ref += float((image[b, c, y + 1, x] - image[b, c, y, x]) ** 2)
    assert float(total_variation(image)) == pytest.approx(ref / 2, rel=1e-5)
    assert float(total_variation(torch.ones(1, 3, 4, 4))) == 0.0


def test_mixed_features_are_content_style_and_all_swapped_pairs(encoder3):
    encoder = encoder3
    content, style, c_mask, s_mask = _pair(b=2, size=20)
    feats = mixed_features(encoder, "relu3_1", content, style)
    f_c, f_s = encoder(content)["relu3_1"], encoder(style)["relu3_1"]
    assert feats.shape == (8, 256, 5, 5)  # 2 content + 2 style + 4 swapped
    torch.testing.assert_close(feats[:2], f_c)
    torch.testing.assert_close(feats[2:4], f_s)
    torch.testing.assert_close(feats[4 + 1 * 2 + 0], patch_swap(f_c[1:2], f_s[0:1])[0])
    masked = mixed_features(encoder, "relu3_1", content, style, c_mask, s_mask)
    small_c, small_s = resize_labels(c_mask, 5), resize_labels(s_mask, 5)
    ref = patch_swap(f_c[0:1], f_s[1:2], 3, 1, small_c[0:1], small_s[1:2])
    torch.testing.assert_close(masked[4 + 0 * 2 + 1], ref[0])
    with pytest.raises(ValueError, match="same shape"):
        mixed_features(encoder, "relu3_1", content, style[..., :16])


def test_decoder_loss_is_eq6(encoder3):
    encoder = encoder3
    decoder = VGGDecoder("relu3_1")
    feats = torch.rand(2, 256, 3, 3)
    losses = decoder_loss(decoder, encoder, feats, tv_weight=0.5)
    image = decoder(feats)
    again = encoder(image)["relu3_1"]
    torch.testing.assert_close(losses["feature"], ((again - feats) ** 2).mean())
    torch.testing.assert_close(losses["total"], losses["feature"] + 0.5 * total_variation(image))
    with pytest.raises(ValueError, match="must return 'relu2_1'"):
        decoder_loss(VGGDecoder("relu2_1"), encoder, torch.rand(1, 128, 4, 4))


def test_decoder_pixel_term_on_the_plain_features(encoder3):
    """The optional pixel term: MSE of the first n decoded images against their images
    (a brute-force sum over pixels), added with its weight; other features feature-only."""
    decoder = VGGDecoder("relu3_1")
    feats = torch.rand(3, 256, 3, 3)
    images = torch.rand(2, 3, 12, 12)
    plain = decoder_loss(decoder, encoder3, feats, tv_weight=0.5)
    losses = decoder_loss(decoder, encoder3, feats, tv_weight=0.5, images=images, pixel_weight=2.0)
    decoded = decoder(feats)[:2].detach()
    brute = sum(float((decoded[i, c, y, x] - images[i, c, y, x]) ** 2)
                for i in range(2) for c in range(3) for y in range(12) for x in range(12)) / (
        2 * 3 * 12 * 12)  # fmt: skip
    assert float(losses["pixel"]) == pytest.approx(brute, rel=1e-5)
    torch.testing.assert_close(losses["total"], plain["total"] + 2.0 * losses["pixel"])
    with pytest.raises(ValueError, match="pixel_weight > 0 needs images"):
        decoder_loss(decoder, encoder3, feats, pixel_weight=1.0)


def test_train_decoder_checkpoints_and_loads(encoder3, tmp_path):
    encoder = encoder3

    def batches():
        g = torch.Generator().manual_seed(0)
        while True:
            yield {"content": torch.rand(1, 3, 16, 16, generator=g),
                   "style": torch.rand(1, 3, 16, 16, generator=g)}  # fmt: skip

    decoder = VGGDecoder("relu3_1", seed=1)
    before = [p.clone() for p in decoder.parameters()]
    history = train_decoder(
        decoder, encoder, batches(), total_steps=3, out_dir=tmp_path, log_every=1,
        checkpoint_every=3, progress=False, data_provenance="uniform noise (test)",
    )  # fmt: skip
    assert len(history) == 3 and {"feature", "tv", "total"} <= set(history.to_frame().columns)
    assert any(not torch.equal(a, b) for a, b in zip(before, decoder.parameters()))
    assert "trained 3 steps" in decoder.provenance and "uniform noise" in decoder.provenance
    assert "random init" in decoder.provenance  # the encoder's weights are named
    loaded = load_decoder(tmp_path)
    for a, b in zip(decoder.parameters(), loaded.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="not 'relu4_1'"):
        load_decoder(tmp_path, layer="relu4_1")
    pipeline = FastSemanticStyleTransfer.from_checkpoints({"relu3_1": tmp_path}, weights="random")
    for a, b in zip(decoder.parameters(), pipeline.decoders["relu3_1"].parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="trained against VGG19 weights"):
        FastSemanticStyleTransfer.from_checkpoints({"relu3_1": tmp_path}, weights="random", seed=1)
    with pytest.raises(FileNotFoundError, match="train_decoder"):
        load_decoder(tmp_path / "nowhere")


def test_pipeline_is_encode_reconstruct_decode(pipeline, encoder):
    content, style, c_mask, s_mask = _pair(1)
    result = pipeline(content, style, c_mask, s_mask, iterations=20, snapshot_at=(0, 20))
    assert result.image.shape == content.shape
    assert float(result.image.min()) >= 0 and float(result.image.max()) <= 1
    assert set(result.seconds) == {"encode", "reconstruct", "decode", "total"}
    f_c, f_s = encoder(content)["relu3_1"], encoder(style)["relu3_1"]
    ref = reconstruct_linear(
        f_c, f_s, resize_labels(c_mask, 8), resize_labels(s_mask, 8), 1e8, 20
    ).feature
    torch.testing.assert_close(result.features["relu3_1"], ref)
    decoded = pipeline.decoders["relu3_1"](ref).clamp(0, 1)
    torch.testing.assert_close(result.image, decoded)
    torch.testing.assert_close(result.snapshots[20], decoded)
    assert "random init" in result.provenance and "untrained" in result.provenance
    again = pipeline(content, style, c_mask, s_mask, iterations=20)
    assert torch.equal(again.image, result.image)


def test_pipeline_methods_and_layers(pipeline):
    content, style, c_mask, s_mask = _pair(2)
    multi = pipeline(content, style, c_mask, s_mask, layers=("relu3_1", "relu4_1"), iterations=5)
    assert list(multi.features) == ["relu4_1", "relu3_1"]  # deepest first
    assert multi.features["relu4_1"].shape == (1, 512, 4, 4)
    swap = pipeline(content, style, c_mask, s_mask, method="patch_swap")
    assert swap.image.shape == content.shape
    gram = pipeline(content, style, c_mask, s_mask, method="gram", iterations=3, style_weight=1e3)
    assert gram.reconstructions["relu3_1"].total_loss.shape == (1, 4)


def test_pipeline_bad_input(pipeline, encoder):
    content, style, c_mask, s_mask = _pair(3)
    with pytest.raises(ValueError, match="no decoder for"):
        pipeline(content, style, layers="relu5_1")
    with pytest.raises(ValueError, match="at image resolution"):
        pipeline(content, style, c_mask[:, :8, :8], s_mask)
    with pytest.raises(ValueError, match="both content_mask and style_mask"):
        pipeline(content, style, c_mask)
    with pytest.raises(ValueError, match="add the batch axis"):
        pipeline(content[0], style)
    with pytest.raises(ValueError, match="method must be"):
        pipeline(content, style, method="wct")
    with pytest.raises(ValueError, match="encoder does not return"):
        FastSemanticStyleTransfer(VGGDecoder("relu2_1"), encoder)
    with pytest.raises(ValueError, match="inverts 'relu3_1'"):
        FastSemanticStyleTransfer({"relu4_1": VGGDecoder("relu3_1")}, encoder)
    with pytest.raises(ValueError, match=r"regions \[1\] receive no style"):
        pipeline(content, style, c_mask, torch.zeros_like(s_mask), missing_region="error")


def test_channels_last_and_inference_mode_change_nothing_but_speed():
    content, style, c_mask, s_mask = _pair(4, b=2)
    images = {}
    for layout in (False, True):
        pipe = FastSemanticStyleTransfer(
            VGGDecoder("relu3_1"), VGG19Features(("relu3_1",), weights="random"),
            channels_last=layout,
        )  # fmt: skip
        conv = pipe.encoder.features[0].weight
        assert conv.is_contiguous(memory_format=torch.channels_last) == layout
        result = pipe(content, style, c_mask, s_mask, iterations=10)
        assert result.image.is_contiguous() and result.image.is_inference()
        images[layout] = result.image
        batched = result.features["relu3_1"]
        one = pipe(content[:1], style[:1], c_mask[:1], s_mask[:1], iterations=10)
        torch.testing.assert_close(one.features["relu3_1"], batched[:1], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(images[False], images[True], rtol=1e-4, atol=1e-5)


def test_smoke_decoder_output_depends_on_its_input(tmp_path):
    """The smoke profile's decoder (the train CLI with the notebook's smoke options, a few
    steps) decodes two different faces to two different, non-black images, and its input
    scale and settings survive the checkpoint."""
    from maskstyle.models.fast_semantic_style import decoder_folder
    from maskstyle.models.fast_semantic_style.data import content_samples
    from maskstyle.models.fast_semantic_style.train import main as train_main

    summary = train_main(["--layer", "relu3_1", "--steps", "4", "--size", "32", "--batch-size",
                          "1", "--lr", "5e-4", "--n-faces", "4", "--pairs", "matched",
                          "--normalise-input", "--channels-last", "--eval-faces", "2",
                          "--no-progress", "--out", str(tmp_path / "decoder_relu3_1")])  # fmt: skip
    assert summary["psnr_held_out"] > 0
    folder = decoder_folder(tmp_path, "relu3_1", {"weights": "random", "seed": 0, "size": 32})
    decoder = load_decoder(folder)
    assert float(decoder.input_scale) > 2.0  # features have RMS ~0.1: the scale was fixed
    faces, _ = content_samples(2, 32, seed=123)
    images = torch.stack([f["image"] for f in faces])
    encoder = VGG19Features(("relu3_1",), weights="random", seed=0)
    with torch.no_grad():
        out = decoder(encoder(images)["relu3_1"]).clamp(0, 1)
    assert float(out.mean()) > 0.05  # not black
    assert float((out[0] - out[1]).abs().mean()) > 1e-3  # two inputs, two images
    with pytest.raises(Exception, match="size"):
        decoder_folder(tmp_path, "relu3_1", {"size": 64})


def test_lambda_tradeoff_rows_against_direct_scores(pipeline):
    from maskstyle.metrics.stylisation import stylisation_scores
    from maskstyle.models.fast_semantic_style import lambda_tradeoff

    content, _, c_mask, s_mask = _pair(3, b=2, size=32)
    style = torch.zeros_like(content)  # one flat colour per style region, far from the content's
    style[:, 0] = (s_mask == 0).float()
    style[:, 2] = (s_mask == 1).float()
    rows, images = lambda_tradeoff(
        pipeline, content, style, c_mask, s_mask, [0.0, 1e9], iterations=5
    )
    assert [r["lambda"] for r in rows] == [0.0, 1e9]
    assert [tuple(x.shape) for x in images] == [tuple(content.shape)] * 2
    with torch.no_grad():  # lambda 0: the content through encoder and decoder, nothing moved
        plain = pipeline.decoders["relu3_1"](pipeline.encoder(content)["relu3_1"]).clamp(0, 1)
    direct = stylisation_scores(plain, content, style, c_mask, s_mask, 16)
    assert torch.allclose(images[0], plain, atol=1e-5)
    assert rows[0].keys() == rows[1].keys() == {"lambda", *direct}
    for key, value in direct.items():
        assert math.isfinite(value) and rows[0][key] == pytest.approx(value, abs=1e-5), key


def test_lambda_tradeoff_bad_input(pipeline):
    from maskstyle.models.fast_semantic_style import lambda_tradeoff

    content, style, c_mask, s_mask = _pair()
    with pytest.raises(ValueError, match="at least one lambda"):
        lambda_tradeoff(pipeline, content, style, c_mask, s_mask, [])
    with pytest.raises(ValueError, match=">= 0"):
        lambda_tradeoff(pipeline, content, style, c_mask, s_mask, [-1.0])
