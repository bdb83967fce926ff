"""LRNet's real-data pairs (FPB layout, CelebAMask-HQ) on tiny fake copies written in tmp_path."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.data.labels import LABEL_INDEX as L
from maskstyle.data.loaders import MissingDatasetFile
from maskstyle.models.lrnet.data import FaceWorldBlendPairs
from maskstyle.models.lrnet.real_data import (
    CelebAMaskHQBlendPairs,
    FPBBlendPairs,
    detect_dataset,
    lrnet_pairs,
    mask_descriptor,
    pair_by_geometry,
)

pytest.importorskip("mediapipe")
SIZE = 48


def _save(image: torch.Tensor, path) -> None:
    pixels = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(pixels).save(path)


def write_fake_fpb(root, count=4, targets=True, edit=None):
    """An FPB-layout folder made by hand from face-world blend pairs (64 px)."""
    from maskstyle.data.synth import SynthFaces

    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = []
    for i, pair in enumerate(SynthFaces(count, size=64, seed=2, kind="blend")):
        for side in ("a", "b"):
            _save(pair[side]["image"], root / "images" / f"{side}{i}.png")
            mask = pair[side]["mask"].numpy().astype(np.uint8)
            if edit is not None:
                mask = edit(i, side, mask)
            Image.fromarray(mask).save(root / "masks" / f"{side}{i}.png")
        _save(pair["target"]["image"], root / "images" / f"t{i}.png")
        has_target = targets is True or (targets == "some" and i % 2 == 0)
        rows.append({"a": f"a{i}.png", "b": f"b{i}.png", "target": f"t{i}.png" if has_target
                     else "", "kind": "generated" if i < count - 1 else "real"})  # fmt: skip
    with (root / "pairs.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["a", "b", "target", "kind"])
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture(scope="module")
def fpb_root(tmp_path_factory):
    return write_fake_fpb(tmp_path_factory.mktemp("fpb"))


@pytest.fixture(scope="module")
def celeb_root(tmp_path_factory):
    from maskstyle.data.synth import SynthFaces, write_celebamask_hq

    root = tmp_path_factory.mktemp("celebamask_hq")
    return write_celebamask_hq(SynthFaces(6, size=64, seed=1, kind="single"), root, "png")


def _check_schema(sample: dict, with_target: bool) -> None:
    reference = FaceWorldBlendPairs(1, size=SIZE, seed=0)[0]
    expected = set(reference) - ({"target"} if not with_target else set())
    assert set(sample) == expected
    for key in ("x_a", "x_b", "coords_a", "coords_b"):
        assert sample[key].shape == (3, SIZE, SIZE) and sample[key].dtype == torch.float32
    for key in ("labels_a", "regions_a", "regions_b"):
        assert sample[key].shape == (SIZE, SIZE) and sample[key].dtype == torch.int64
    for side in ("a", "b"):
        norm = sample[f"coords_{side}"].norm(dim=0)
        assert torch.allclose(norm[norm > 0], torch.ones(()), atol=1e-5)
        face = (sample[f"regions_{side}"] >= 1) & (sample[f"regions_{side}"] <= 7)
        assert (norm[face] > 0).float().mean() > 0.9 and (norm[~face] == 0).all()


def test_fpb_pairs_have_the_face_world_schema_and_split(fpb_root):
    pairs = FPBBlendPairs(fpb_root, split="all", size=SIZE)
    assert len(pairs) == 4 and pairs.has_target and "ground truth: yes" in pairs.provenance
    _check_schema(pairs[0], with_target=True)
    train, val = FPBBlendPairs(fpb_root, "train", SIZE), FPBBlendPairs(fpb_root, "val", SIZE)
    assert len(train) + len(val) == 4 and len(val) >= 1
    assert {train[i]["index"] for i in range(len(train))}.isdisjoint(
        {val[i]["index"] for i in range(len(val))}
    )
    assert torch.equal(pairs[1]["coords_a"], FPBBlendPairs(fpb_root, "all", SIZE)[1]["coords_a"])


def test_fpb_without_ground_truth_on_some_rows(tmp_path):
    pairs = FPBBlendPairs(write_fake_fpb(tmp_path, 2, targets="some"), size=SIZE, coords="none")
    assert not pairs.has_target and "target" not in pairs[0]
    assert "1 of 2" in pairs.no_target_reason
    assert float(pairs[0]["coords_a"].abs().sum()) == 0.0  # coords='none': zeros


def test_celebamask_hq_pairs_deterministic_disjoint_without_target(celeb_root):
    pairs = CelebAMaskHQBlendPairs(celeb_root, count=3, size=SIZE, seed=0)
    assert len(pairs.all_pairs) == 3 and not pairs.has_target
    faces = [k for pair in pairs.all_pairs for k in pair]
    assert len(set(faces)) == 6  # every face used once
    again = CelebAMaskHQBlendPairs(celeb_root, count=3, size=SIZE, seed=0)
    assert again.all_pairs == pairs.all_pairs
    _check_schema(pairs[0], with_target=False)
    train = CelebAMaskHQBlendPairs(celeb_root, count=3, split="train", size=SIZE)
    val = CelebAMaskHQBlendPairs(celeb_root, count=3, split="val", size=SIZE)
    assert (len(train), len(val)) == (2, 1)


def test_pairing_by_mask_geometry_hand_case():
    d = np.array([[0.0, 0.0], [5.0, 5.0], [0.1, 0.0], [5.0, 5.2], [0.0, np.nan]])
    # 0 takes its nearest (2); 1 takes 3; 4 lacks a part, so it may pair with no one left
    assert pair_by_geometry(d, 5) == [(0, 2), (1, 3)]
    assert pair_by_geometry(d, 1) == [(0, 2)]
    # a face may only pair with one that has every part it has
    d = np.array([[0.0, 0.0], [0.0, np.nan], [3.0, 3.0]])
    assert pair_by_geometry(d, 2) == [(0, 2)]


def test_mask_descriptor_hand_case():
    labels = torch.zeros(10, 10, dtype=torch.long)
    labels[2:8, 2:8] = L["skin"]
    labels[4:6, 4:6] = L["nose"]
    d = mask_descriptor(labels)
    assert d[:4] == pytest.approx([0.5, 0.5, 0.5, 0.5])  # skin, nose centroids (pixel centres)
    assert np.isnan(d[4:10]).all()  # no eyes or mouth
    assert d[10:] == pytest.approx([0.6, 0.6])  # skin spans 6 of 10 px


def test_lrnet_pairs_picks_the_layout(fpb_root, celeb_root, tmp_path):
    assert detect_dataset(fpb_root) == "fpb" and detect_dataset(celeb_root) == "celebamask_hq"
    assert isinstance(lrnet_pairs(None, 3, SIZE), FaceWorldBlendPairs)
    assert isinstance(lrnet_pairs(fpb_root, 3, SIZE, split="val"), FPBBlendPairs)
    assert isinstance(lrnet_pairs(celeb_root, 2, SIZE), CelebAMaskHQBlendPairs)
    with pytest.raises(MissingDatasetFile, match="maskstyle data verify fpb"):
        lrnet_pairs(tmp_path, 3, SIZE)
    with pytest.raises(ValueError, match="give its data_root"):
        lrnet_pairs(None, 3, SIZE, dataset="fpb")
    with pytest.raises(ValueError, match="dataset must be one of"):
        lrnet_pairs(fpb_root, 3, SIZE, dataset="ffhq")


def test_missing_files_point_to_data_verify(tmp_path, fpb_root):
    with pytest.raises(MissingDatasetFile, match="maskstyle data verify fpb"):
        FPBBlendPairs(tmp_path / "nowhere", size=SIZE)
    with pytest.raises(MissingDatasetFile, match="maskstyle data verify celebamask_hq"):
        CelebAMaskHQBlendPairs(tmp_path / "nowhere", count=2, size=SIZE)
    broken = write_fake_fpb(tmp_path / "broken", 2)
    (broken / "images" / "b1.png").unlink()
    pairs = FPBBlendPairs(broken, size=SIZE, coords="none")
    with pytest.raises(MissingDatasetFile, match=r"b1\.png.*maskstyle data verify fpb"):
        pairs[1]


def test_pair_whose_mask_lacks_a_region(tmp_path):
    def drop_nose_of_b(i, side, mask):
        if side == "b":
            mask[mask == L["nose"]] = L["skin"]
        return mask

    root = write_fake_fpb(tmp_path / "no_nose", 2, edit=drop_nose_of_b)
    with pytest.raises(ValueError, match=r"B's mask lacks region\(s\) .*nose"):
        FPBBlendPairs(root, size=SIZE, coords="none", missing_region="raise")[0]
    kept = FPBBlendPairs(root, size=SIZE, coords="none")[0]  # default: keep A there
    assert not (kept["regions_b"] == 2).any() and (kept["regions_a"] == 2).any()

    def blank_a(i, side, mask):
        return mask * 0 if side == "a" else mask

    with pytest.raises(ValueError, match="A's mask has no face region"):
        FPBBlendPairs(write_fake_fpb(tmp_path / "blank", 2, edit=blank_a), size=SIZE)[0]

    def no_skin_b(i, side, mask):
        skin = np.isin(mask, [L["skin"], L["l_ear"], L["r_ear"], L["eye_g"]])  # LRNet's skin
        return np.where(skin, 0, mask).astype(np.uint8) if side == "b" else mask

    root = write_fake_fpb(tmp_path / "no_skin", 2, edit=no_skin_b)
    with pytest.raises(ValueError, match="B's mask has no skin region"):
        FPBBlendPairs(root, size=SIZE, coords="none")[0]
    with pytest.raises(ValueError, match="coords must be one of"):
        FPBBlendPairs(root, size=SIZE, coords="prnet")


def test_no_face_found_suggests_coords_none(tmp_path):
    from maskstyle.data.parse_face import NoFaceFoundError

    root = write_fake_fpb(tmp_path / "flat", 2)
    grey = torch.full((3, 64, 64), 0.5)
    _save(grey, root / "images" / "a0.png")
    with pytest.raises(NoFaceFoundError, match="coords='none'"):
        FPBBlendPairs(root, size=SIZE)[0]


def test_paper_profile_path_on_fakes(fpb_root, celeb_root, tmp_path):
    """Train on the fake FPB through the command line, evaluate on fake CelebAMask-HQ."""
    from maskstyle.baselines.blending import StyleBlending
    from maskstyle.baselines.deep_blending import DeepBlending
    from maskstyle.models.lrnet.evaluate import baseline_methods, evaluate_blending
    from maskstyle.models.lrnet.train import load_trained_lrnet, main
    from maskstyle.workbook import Missing

    args = f"--steps 2 --size {SIZE} --data-root {fpb_root} --no-progress --log-every 1"
    summary = main(args.split() + ["--out", str(tmp_path / "run")])
    assert "FPB pairs" in summary["data"] and summary["data_root"] == str(fpb_root)
    model = load_trained_lrnet(tmp_path / "run")

    class MeanColour(torch.nn.Module):  # a tiny stand-in for Inception
        def forward(self, x):
            return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

    val = lrnet_pairs(celeb_root, 3, SIZE, split="all")
    methods = baseline_methods(model, StyleBlending(weights="random"),
                               deep=DeepBlending(max_iters=1))  # fmt: skip
    table, blends = evaluate_blending(methods, val, fid_extractor=MeanColour())
    assert list(table["method"]) == ["alpha", "poisson", "style", "deep", "lrnet"]
    assert all(isinstance(v, Missing) and "CelebAMask-HQ" in v.reason for v in table["psnr"])
    assert all(isinstance(v, Missing) for v in table["ssim"])
    assert table["fid"].notna().all() and (table["fid_reference"] == "real target faces x_B").all()
    assert blends["lrnet"].shape == (3, 3, SIZE, SIZE)
