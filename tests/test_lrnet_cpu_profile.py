"""Issue 10: compositing (Eq. 5), the trained style decoder, Table 1 keys, trained settings,
FPB-algorithm pairs as training data, and the variant probes."""

from __future__ import annotations

import json

import pytest
import torch

from maskstyle.models.lrnet.data import (
    FaceWorldBlendPairs,
    GeneratedPairs,
    collate_pairs,
    most_different_pair,
    save_generated_pairs,
)
from maskstyle.models.lrnet.train import build_lrnet, load_trained_lrnet, main
from maskstyle.train import SettingsMismatch, check_settings


def _batch(size: int = 48):
    return collate_pairs([FaceWorldBlendPairs(1, size=size, seed=0)[0]])


def test_composite_output_is_b_outside_the_feathered_face():
    b = _batch()
    model = build_lrnet(seed=0).eval()
    with torch.no_grad():
        out = model(b["x_a"], b["x_b"], b["regions_a"], b["regions_b"])
    fg = model.foreground(b["regions_a"])
    # farther than the feather radius (3 sigma = 6 px) from the face, the output is exactly B
    far = torch.nn.functional.max_pool2d(fg[:, None].float(), 15, stride=1, padding=7)[:, 0] == 0
    assert bool(far.any())
    torch.testing.assert_close(out[:, :, far[0]], b["x_b"][:, :, far[0]])
    raw = build_lrnet(seed=0, composite=False).eval()
    with torch.no_grad():
        whole = raw(b["x_a"], b["x_b"], b["regions_a"], b["regions_b"])
    assert not torch.allclose(whole[:, :, far[0]], b["x_b"][:, :, far[0]], atol=1e-3)
    # independent reference of the paste: a * D + (1 - a) * B with the same feathered mask
    from maskstyle.baselines.blending import feather_mask

    a = feather_mask(fg, 2 * model.feature_sigma)
    decoded = raw.decoder  # same seed: the same decoder weights
    assert all(torch.equal(p, q) for p, q in zip(decoded.parameters(), model.decoder.parameters()))
    torch.testing.assert_close(out, a * whole + (1 - a) * b["x_b"])


def test_decoder_depth_adds_layers_and_keeps_the_shape():
    from maskstyle.models.lrnet.model import LRNetDecoder

    small, deep = LRNetDecoder(depth=1), LRNetDecoder(depth=3)
    assert sum(p.numel() for p in deep.parameters()) > sum(p.numel() for p in small.parameters())
    assert deep(torch.rand(1, 256, 8, 8)).shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="depth"):
        LRNetDecoder(depth=0)


def test_trained_settings_are_checked_when_loading(tmp_path):
    args = ["--steps", "1", "--size", "48", "--pairs", "2", "--no-coords", "--out", str(tmp_path),
            "--profile", "smoke", "--decoder-depth", "2"]  # fmt: skip
    summary = main(args)
    assert summary["settings"]["decoder_depth"] == 2 and summary["settings"]["composite"] is True
    model = load_trained_lrnet(tmp_path, expected={"decoder_depth": 2, "profile": "smoke"})
    assert model.decoder_depth == 2 and model.composite
    with pytest.raises(SettingsMismatch, match=r"decoder_depth: checkpoint 2 vs now 1.*--fresh"):
        load_trained_lrnet(tmp_path, expected={"decoder_depth": 1})
    with pytest.raises(SettingsMismatch, match="profile: checkpoint 'smoke' vs now 'cpu'"):
        check_settings(tmp_path, {"profile": "cpu"}, keys=["profile"])


def test_resuming_with_other_settings_is_refused(tmp_path):
    base = ["--steps", "1", "--size", "48", "--pairs", "2", "--no-coords", "--out", str(tmp_path)]
    main(base)
    with pytest.raises(SettingsMismatch, match="lr: checkpoint 0.0001 vs now 0.5"):
        main(base[:1] + ["2"] + base[2:] + ["--lr", "0.5"])
    fresh = main(base[:1] + ["2"] + base[2:] + ["--lr", "0.5", "--fresh"])
    assert fresh["settings"]["lr"] == 0.5


def test_generated_pairs_train_beside_face_world_pairs(tmp_path):
    x = torch.rand(3, 3, 32, 32)
    regions = torch.randint(0, 10, (3, 32, 32))
    path = tmp_path / "fpb_pairs.pt"
    save_generated_pairs(path, x, x.flip(0), regions, regions.flip(0), provenance="test pairs")
    pairs = GeneratedPairs(path, size=48)
    s = pairs[1]
    assert s["x_a"].shape == (3, 48, 48) and s["regions_b"].shape == (48, 48)
    assert s["regions_a"].dtype == torch.int64 and float(s["coords_a"].abs().sum()) == 0
    assert "3 pairs" in pairs.provenance and "48 px" in pairs.provenance
    # a face-world sample and a generated one share a batch on their common keys
    batch = collate_pairs([FaceWorldBlendPairs(1, size=48)[0], s])
    assert batch["x_a"].shape == (2, 3, 48, 48) and "target" not in batch
    summary = main(["--steps", "2", "--size", "48", "--pairs", "2", "--out", str(tmp_path / "m"),
                    "--fpb-pairs", str(path)])  # fmt: skip
    assert "FPB" in summary["data"] or "test pairs" in summary["data"]
    with pytest.raises(ValueError, match="lacks"):
        torch.save({"x_a": x}, tmp_path / "bad.pt")
        GeneratedPairs(tmp_path / "bad.pt")


def test_style_decoder_is_trained_and_its_psnr_recorded(tmp_path):
    from maskstyle.models.lrnet.style_decoder import (
        STYLE_LAYER,
        load_style_decoder,
        reconstruction_psnr,
        train_style_decoder,
    )
    from maskstyle.nn.vgg import VGG19Features
    from maskstyle.nn.vgg_decoder import VGGDecoder

    summary = train_style_decoder(25, tmp_path, size=32, pairs=10, batch_size=4, progress=False,
                                  eval_images=6)  # fmt: skip
    assert check_settings(tmp_path, {"size": 32, "batch_size": 4}, keys=["size", "batch_size"])
    with pytest.raises(SettingsMismatch, match="batch_size"):  # resuming with other settings
        train_style_decoder(26, tmp_path, size=32, pairs=10, batch_size=2, progress=False)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["val_psnr"] == pytest.approx(summary["val_psnr"])
    decoder, loaded = load_style_decoder(tmp_path)
    encoder = VGG19Features(layers=(STYLE_LAYER,), weights="random", seed=0)
    pairs = FaceWorldBlendPairs(10, 32, 0, "val")
    images = torch.stack([pairs[i // 2]["x_a" if i % 2 == 0 else "x_b"] for i in range(6)])
    recomputed = reconstruction_psnr(decoder, encoder, images)
    assert recomputed == pytest.approx(loaded["val_psnr"], abs=1e-4)
    untrained = reconstruction_psnr(VGGDecoder(STYLE_LAYER, seed=0), encoder, images)
    assert summary["val_psnr"] > untrained + 3  # training made it a decoder
    # independent reference of the PSNR: 10 log10(1 / MSE), per image, averaged
    with torch.no_grad():
        out = decoder(encoder(images)[STYLE_LAYER]).clamp(0, 1)
    mse = (out - images).square().flatten(1).mean(1)
    assert summary["val_psnr"] == pytest.approx(float((10 * torch.log10(1 / mse)).mean()), abs=1e-3)


@pytest.mark.slow
def test_table1_keys_of_a_smoke_sized_run(tmp_path):
    from maskstyle import workbook
    from maskstyle.baselines.blending import StyleBlending
    from maskstyle.baselines.deep_blending import DeepBlending
    from maskstyle.models.lrnet.evaluate import (
        TABLE1_METHODS,
        baseline_methods,
        evaluate_blending,
        table1_metrics,
    )

    pairs = FaceWorldBlendPairs(3, size=48, seed=0, split="all")
    model = build_lrnet(seed=0).eval()
    methods = baseline_methods(model, StyleBlending(), deep=DeepBlending(max_iters=2))

    class MeanColour(torch.nn.Module):
        def forward(self, x):
            return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

    table, _ = evaluate_blending(methods, pairs, fid_extractor=MeanColour(),
                                 foreground=lambda b: model.foreground(b["regions_a"]))  # fmt: skip
    workbook.record(tmp_path, "table1", metrics=table1_metrics(table), data="test", weights="test",
                    seed=0, profile="smoke")
    saved = json.loads((tmp_path / "metrics.json").read_text())["entries"]["table1"]["metrics"]
    for method in TABLE1_METHODS:
        for measure in ("psnr", "ssim", "fid", "time_s", "psnr_face"):
            assert f"{method}.{measure}" in saved, f"table1.{method}.{measure} missing"
    # background PSNR: recorded unless infinite (deep blending keeps B's pixels exactly)
    assert {"alpha.psnr_background", "lrnet.psnr_background"} <= set(saved)
    rows = table.set_index("method")
    # outside the face the composite LRNet is B, like the ground truth: background PSNR high
    assert rows.loc["lrnet", "psnr_background"] > 30


def test_variant_probe_reports_scores():
    from maskstyle.models.lrnet.variants import DEFAULT_VARIANTS, alpha_reference, run_variant

    row = run_variant(DEFAULT_VARIANTS[3], steps=1, size=48, pairs=4, eval_pairs=1, progress=False)
    assert row["steps"] == 1 and row["composite"] and 5 < row["psnr"] < 80
    assert row["psnr_background"] > row["psnr_face"]
    ref = alpha_reference(48, 4, eval_pairs=1)
    assert ref["name"].startswith("alpha") and 5 < ref["psnr"] < 80


def test_most_different_pair_picks_the_largest_region_difference():
    from maskstyle.models.lrnet.regions import LRNET_REGIONS

    nose = LRNET_REGIONS.index("nose")
    index, sample = most_different_pair(3, 48, 0, nose)
    pairs = FaceWorldBlendPairs(3, size=48, seed=0)

    def score(s):
        a, b = s["x_a"][:, s["regions_a"] == nose], s["x_b"][:, s["regions_b"] == nose]
        return float((a.mean(1) - b.mean(1)).norm() + (a.std(1) - b.std(1)).norm())

    assert score(sample) == max(score(pairs[i]) for i in range(3))
    assert torch.equal(sample["x_a"], pairs[index]["x_a"])
