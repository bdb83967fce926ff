"""mCSD/mOCD on hand-made cases, the harmony classifier and error, the LPIPS substitute,
and the face-world data of the regional style series."""

import itertools

import pytest
import torch

from maskstyle.metrics import (
    HarmonyClassifier,
    harmony_error,
    harmony_score,
    mcsd_mocd,
    pairwise_diversity,
    train_harmony_classifier,
)
from maskstyle.models.regional_style.data import (
    cross_lighting_transfer,
    group_mask,
    lighting_composites,
)


def _labels():
    labels = torch.zeros(2, 8, 8, dtype=torch.long)
    labels[:, 2:6, 2:6] = 13  # hair in the middle
    return labels


def test_identical_samples_have_zero_diversity():
    x = torch.rand(2, 1, 3, 8, 8).expand(2, 4, 3, 8, 8)
    assert mcsd_mocd(x, _labels(), "hair") == {"mcsd": 0.0, "mocd": 0.0}


def test_a_change_only_inside_the_region_gives_zero_mocd():
    labels = _labels()
    base = torch.rand(2, 3, 8, 8)
    samples = base[:, None].repeat(1, 4, 1, 1, 1)
    inside = labels == 13
    for n in range(4):
        samples[:, n] = torch.where(inside[:, None], torch.rand(2, 3, 8, 8), base)
    out = mcsd_mocd(samples, labels, "hair")
    assert out["mocd"] == 0.0 and out["mcsd"] > 0.05  # |U - U'| ~ 1/3 on 1/4 of the pixels
    flipped = mcsd_mocd(samples, labels, ["background"])  # the complementary view
    assert flipped["mcsd"] == 0.0 and flipped["mocd"] == pytest.approx(out["mcsd"])


def test_pairwise_diversity_matches_a_loop_over_pairs():
    g = torch.Generator().manual_seed(0)
    samples, region = torch.rand(2, 5, 3, 8, 8, generator=g), _labels() == 13
    got = pairwise_diversity(samples, region)
    for b in range(2):
        m = region[b].float()
        ds = [
            (samples[b, i] * m - samples[b, j] * m).abs().mean()
            for i, j in itertools.combinations(range(5), 2)
        ]
        assert got[b].item() == pytest.approx(float(sum(ds) / len(ds)), rel=1e-5)


def test_diversity_bad_inputs():
    with pytest.raises(ValueError, match="at least 2 samples"):
        mcsd_mocd(torch.rand(2, 1, 3, 8, 8), _labels(), "hair")
    with pytest.raises(ValueError, match="no pixels"):
        mcsd_mocd(torch.rand(2, 3, 3, 8, 8), _labels(), "skin")
    with pytest.raises(ValueError, match="matching samples"):
        mcsd_mocd(torch.rand(2, 3, 3, 8, 8), torch.zeros(2, 4, 4, dtype=torch.long), "hair")
    with pytest.raises(ValueError, match=r"\[B, N, 3, H, W\]"):
        mcsd_mocd(torch.rand(2, 3, 8, 8), _labels(), "hair")


def test_harmony_error_known_values_and_errors():
    truth = torch.zeros(1, 3, 4, 4)
    out = truth.clone()
    region = torch.zeros(1, 4, 4, dtype=torch.bool)
    region[0, :2] = True
    out[:, :, :2] = 0.5  # wrong by 0.5 inside the region only
    err = harmony_error(out, truth, region)
    assert err["region"].item() == pytest.approx(0.5)
    assert err["image"].item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="bool mask"):
        harmony_error(out, truth, region.long())
    with pytest.raises(ValueError, match="empty"):
        harmony_error(out, truth, torch.zeros_like(region))


def test_harmony_classifier_learns_a_visible_inconsistency():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    real = torch.rand(32, 3, 16, 16, generator=g) * 0.5 + 0.25
    masks = torch.zeros(32, 16, 16, dtype=torch.bool)
    masks[:, 4:12, 4:12] = True
    composite = torch.where(masks[:, None], (real + 0.25).clamp(0, 1), real)
    clf = HarmonyClassifier(width=8, depth=3)
    history = train_harmony_classifier(
        clf, real, composite, masks, steps=30, batch_size=8, lr=3e-3, progress=False
    )
    assert history[-1]["loss"] < history[0]["loss"]
    hs_real, hs_comp = harmony_score(clf, real, masks), harmony_score(clf, composite, masks)
    assert hs_real.shape == (32,) and 0 <= hs_real.min() and hs_real.max() <= 1
    assert hs_real.mean() > hs_comp.mean() + 0.3
    with pytest.raises(ValueError, match="foreground"):
        clf(real, masks[:, :8])


def test_face_world_composites_and_ground_truth_transfers():
    comp = lighting_composites(2, size=32, seed=0)
    outside = ~comp["mask"][:, None].expand_as(comp["real"])
    assert torch.equal(comp["real"][outside], comp["composite"][outside])
    assert not torch.equal(comp["real"], comp["composite"])
    cases = cross_lighting_transfer(2, "skin", size=32, seed=0)
    assert cases["truth"].shape == (2, 3, 32, 32)
    assert torch.equal(cases["target_labels"], cases["target_labels"].long())
    skin = group_mask(cases["target_labels"], "skin")
    diff = (cases["truth"] - cases["target"]).abs().mean(1)
    # the ground truth changes the target's skin, hardly anything else
    assert (diff * skin).sum() / skin.sum() > 5 * (diff * ~skin).sum() / (~skin).sum()
    with pytest.raises(ValueError, match="group must be one of"):
        cross_lighting_transfer(1, "beard")


def test_lpips_substitute_zero_for_identical_and_symmetric():
    from maskstyle.metrics.inception_perceptual import LABEL, lpips_substitute

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        g = torch.Generator().manual_seed(0)
        a, b = torch.rand(1, 3, 32, 32, generator=g), torch.rand(1, 3, 32, 32, generator=g)
        assert lpips_substitute(a, a) == pytest.approx(0.0, abs=1e-6)
        d_ab, d_ba = lpips_substitute(a, b), lpips_substitute(b, a)
        assert d_ab > 0.01 and d_ab == pytest.approx(d_ba, rel=1e-4)
    finally:
        torch.set_num_threads(threads)
    assert "substitute" in LABEL


def test_paper_faces_read_a_celebamask_hq_layout(tmp_path):
    from maskstyle.data.synth import SynthFaces
    from maskstyle.data.synth.writer import write_celebamask_hq
    from maskstyle.models.regional_style.data import PaperFaces

    root = write_celebamask_hq(SynthFaces(3, 32, seed=0), tmp_path / "celebamask")
    data = PaperFaces("celebamask_hq", str(root), split="train", size=32)
    assert len(data) == 3  # every index < 28,000 is training data
    item = data[0]
    assert item["image"].shape == (3, 32, 32) and item["labels"].dtype == torch.int64
    assert len(PaperFaces("celebamask_hq", str(root), split="test", size=32)) == 0
    with pytest.raises(ValueError, match="label_dir"):
        PaperFaces("ffhq", str(tmp_path))
    with pytest.raises(ValueError, match="name must be one of"):
        PaperFaces("helen", str(tmp_path))


def test_paper_tables_are_transcribed_and_load():
    from pathlib import Path

    from maskstyle.workbook.paper_tables import paper_table

    root = Path(__file__).resolve().parents[1] / "notebooks"
    sizes = {"table1_reconstruction": 84, "table2_transfer_fid": 30,
             "table3_cross_dataset": 72, "table4_multimodal": 108, "table5_rsm_ablation": 24,
             "sec47_timing": 2}  # fmt: skip
    tables = {name: paper_table("regional_style", name, root) for name in sizes}
    assert {name: len(t) for name, t in tables.items()} == sizes

    def value(name, **keys):
        t = tables[name]
        for k, v in keys.items():
            t = t[t[k] == v]
        assert len(t) == 1, keys
        return float(t["value"].iloc[0])

    assert value("table1_reconstruction", method="Ours", metric="fid", dataset="LaPa") == 46.62
    assert value("table3_cross_dataset", method="Ours", metric="harmony_score",
                 transfer="LaPa->LaPa", region="skin") == 0.8537  # fmt: skip
    # Table 3's "PSNR" is FID: its LaPa->LaPa column equals Table 2's LaPa column
    for method in ("pix2pixHD", "GroupDNet", "SEAN", "Ours"):
        for region in ("skin", "hair"):
            assert value("table3_cross_dataset", method=method, metric="fid",
                         transfer="LaPa->LaPa", region=region) == value(
                "table2_transfer_fid", method=method, dataset="LaPa", region=region)  # fmt: skip
    assert value("table4_multimodal", method="GroupDNet", metric="mcsd", dataset="FFHQ",
                 region="hair") == 0.0  # fmt: skip
    assert value("sec47_timing", method="CNF") / value("sec47_timing", method=(
        "RSM mapping network")) == pytest.approx(333.3, rel=1e-3)  # fmt: skip
