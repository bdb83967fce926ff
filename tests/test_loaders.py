"""Real-dataset loaders on tiny fake layouts: sample schema, merging, splits, errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from maskstyle.data.labels import CELEBAMASK_HQ_PARTS, LABEL_INDEX, NUM_CLASSES
from maskstyle.data.loaders import (
    FFHQ,
    LAPA_TO_CELEBAMASK,
    CelebA,
    CelebAMaskHQ,
    DatasetFileError,
    FPBPairs,
    ImageFolder,
    LaPa,
    MissingDatasetFile,
    lapa_to_celebamask,
)
from maskstyle.data.loaders import celeba as celeba_module
from maskstyle.data.loaders.celebamask_hq import part_path
from maskstyle.data.loaders.fpb import stratified_split

CELEBA_ATTRS = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses "
    "Goatee Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache "
    "Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks "
    "Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick "
    "Wearing_Necklace Wearing_Necktie Young"
).split()


def _rgb(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(array: np.ndarray, path: Path, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)
    return path


def _attr_file(path: Path, names: list[str], rows: dict[str, np.ndarray]) -> None:
    lines = [str(len(rows)), " ".join(names)]
    lines += [f"{f} " + " ".join("1" if v else "-1" for v in vals) for f, vals in rows.items()]
    path.write_text("\n".join(lines) + "\n")


# --- CelebA --------------------------------------------------------------------------------


@pytest.fixture
def celeba_root(tmp_path):
    rng = np.random.default_rng(0)
    rows = {}
    for k in range(1, 7):
        name = f"{k:06d}.jpg"
        _save(_rgb(22, 18, k), tmp_path / "img_align_celeba" / name)
        rows[name] = rng.random(40) < 0.5
    for name, values in rows.items():  # columns 8, 9, 11: Black, Blond, Brown_Hair
        values[[8, 9, 11]] = [name != "000004.jpg", False, False]  # LOMIT drops 000004
    _attr_file(tmp_path / "list_attr_celeba.txt", CELEBA_ATTRS, rows)
    partition = [
        "000001.jpg 0",
        "000002.jpg 0",
        "000003.jpg 1",
        "000004.jpg 2",
        "000005.jpg 2",
        "000006.jpg 0",
    ]
    (tmp_path / "list_eval_partition.txt").write_text("\n".join(partition) + "\n")
    return tmp_path, rows


def test_celeba_sample_schema_and_attributes(celeba_root):
    root, rows = celeba_root
    ds = CelebA(root, split="all")
    assert len(ds) == 6
    sample = ds[2]
    assert sample["image"].dtype == torch.float32 and sample["image"].shape == (3, 22, 18)
    assert 0.0 <= sample["image"].min() and sample["image"].max() <= 1.0
    assert sample["attrs"] == dict(zip(CELEBA_ATTRS, rows["000003.jpg"].tolist()))
    assert sample["path"].endswith("000003.jpg") and sample["dataset"] == "celeba"
    expected = np.asarray(Image.open(root / "img_align_celeba" / "000003.jpg")) / 255.0
    assert np.allclose(sample["image"].permute(1, 2, 0).numpy(), expected, atol=1e-6)


def test_celeba_official_split(celeba_root):
    root, _ = celeba_root
    names = {
        s: [Path(p).name for p in CelebA(root, split=s).files] for s in ("train", "valid", "test")
    }
    assert names == {
        "train": ["000001.jpg", "000002.jpg", "000006.jpg"],
        "valid": ["000003.jpg"],
        "test": ["000004.jpg", "000005.jpg"],
    }


def test_celeba_lomit_split(celeba_root, monkeypatch):
    root, _ = celeba_root
    monkeypatch.setattr(celeba_module, "LOMIT_TEST_ROWS", 4)
    test = CelebA(root, split="test", protocol="lomit").files
    train = CelebA(root, split="train", protocol="lomit").files
    assert test == ["000001.jpg", "000002.jpg", "000003.jpg"]  # 000004 has no hair colour
    assert train == ["000005.jpg", "000006.jpg"]
    assert len(CelebA(root, split="all", protocol="lomit")) == 5
    with pytest.raises(ValueError, match="no validation split"):
        CelebA(root, split="valid", protocol="lomit")


def test_celeba_attribute_split_and_crop(celeba_root):
    root, rows = celeba_root
    ds = CelebA(root, split="all", crop=16, size=8)
    with_glasses, without = ds.attribute_split("Eyeglasses")
    column = CELEBA_ATTRS.index("Eyeglasses")
    assert len(with_glasses) == sum(bool(v[column]) for v in rows.values())
    assert len(with_glasses) + len(without) == 6
    assert all(with_glasses[i]["attrs"]["Eyeglasses"] for i in range(len(with_glasses)))
    assert ds[0]["image"].shape == (3, 8, 8)
    with pytest.raises(KeyError, match="Eyeglasses"):
        ds.attribute_split("Glasses")


def test_celeba_missing_and_corrupt_files(celeba_root):
    root, _ = celeba_root
    (root / "img_align_celeba" / "000002.jpg").unlink()
    blob = (root / "img_align_celeba" / "000003.jpg").read_bytes()
    (root / "img_align_celeba" / "000003.jpg").write_bytes(blob[:40])
    ds = CelebA(root, split="all")
    with pytest.raises(MissingDatasetFile, match=r"maskstyle data verify celeba --root"):
        ds[1]
    with pytest.raises(DatasetFileError, match="000003.jpg"):
        ds[2]
    (root / "list_eval_partition.txt").unlink()
    with pytest.raises(FileNotFoundError, match="list_eval_partition.txt"):
        CelebA(root, split="train")


# --- CelebAMask-HQ -------------------------------------------------------------------------


def _fake_celebamask_hq(root: Path, indices=(0, 1, 2001), image_size=32, mask_size=16):
    """Random overlapping parts saved as L, RGB and RGBA PNGs; returns reference masks."""
    rng = np.random.default_rng(1)
    reference = {}
    rows = {}
    for k in indices:
        _save(_rgb(image_size, image_size, k), root / "CelebA-HQ-img" / f"{k}.jpg")
        expected = np.zeros((mask_size, mask_size), dtype=np.int64)
        for label, part in enumerate(CELEBAMASK_HQ_PARTS, start=1):
            if label not in (1, 2, 4, 13, 18) and rng.random() < 0.5:
                continue  # parts absent from this face
            region = rng.random((mask_size, mask_size)) < 0.3
            values = np.where(region, 255, 0).astype(np.uint8)
            mode = ("L", "RGB", "RGBA")[label % 3]
            if mode == "RGB":
                values = np.stack([values, np.zeros_like(values), values], axis=2)
            elif mode == "RGBA":
                values = np.stack([values] * 3 + [np.full_like(values, 255)], axis=2)
            _save(values, part_path(root, k, part))
            expected = np.maximum(expected, region * label)  # later parts win
        reference[k] = expected
        rows[f"{k}.jpg"] = rng.random(40) < 0.5
    _attr_file(root / "CelebAMask-HQ-attribute-anno.txt", CELEBA_ATTRS, rows)
    return reference, rows


def test_celebamask_hq_merges_parts_in_label_order(tmp_path):
    reference, rows = _fake_celebamask_hq(tmp_path)
    ds = CelebAMaskHQ(tmp_path)
    assert ds.indices == [0, 1, 2001]
    for i, k in enumerate(ds.indices):
        sample = ds[i]
        assert sample["index"] == k and sample["mask"].dtype == torch.int64
        assert sample["image"].shape == (3, 32, 32) and sample["mask"].shape == (32, 32)
        # 16 -> 32 by nearest neighbour: every label pixel becomes a 2 x 2 block
        assert np.array_equal(sample["mask"].numpy(), np.kron(reference[k], np.ones((2, 2))))
        assert np.array_equal(ds.load_mask(k).numpy(), reference[k])
        assert sample["attrs"] == dict(zip(CELEBA_ATTRS, rows[f"{k}.jpg"].tolist()))
    assert (tmp_path / "CelebAMask-HQ-mask-anno" / "1").is_dir()  # k // 2000 folders


def test_celebamask_hq_size_split_and_collate(tmp_path):
    reference, _ = _fake_celebamask_hq(tmp_path)
    ds = CelebAMaskHQ(tmp_path, split="train", train_count=2, size=8)
    assert ds.indices == [0, 1]
    assert CelebAMaskHQ(tmp_path, split="test", train_count=2).indices == [2001]
    sample = ds[0]
    assert sample["image"].shape == (3, 8, 8) and sample["mask"].shape == (8, 8)
    assert set(sample["mask"].unique().tolist()) <= set(np.unique(reference[0]).tolist())
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["image"].shape == (2, 3, 8, 8) and batch["mask"].dtype == torch.int64
    assert batch["attrs"]["Smiling"].shape == (2,)


def test_celebamask_hq_png_images_and_transform(tmp_path):
    _fake_celebamask_hq(tmp_path, indices=(5,))
    image = tmp_path / "CelebA-HQ-img" / "5.jpg"
    Image.open(image).save(image.with_suffix(".png"))
    image.unlink()

    def flip(sample):
        return {**sample, "image": sample["image"].flip(-1), "mask": sample["mask"].flip(-1)}

    plain = CelebAMaskHQ(tmp_path, attributes=False)[0]
    flipped = CelebAMaskHQ(tmp_path, attributes=False, transform=flip)[0]
    assert plain["path"].endswith("5.png") and "attrs" not in plain
    assert torch.equal(flipped["mask"], plain["mask"].flip(-1))


def test_celebamask_hq_broken_layouts(tmp_path):
    _fake_celebamask_hq(tmp_path)
    for part in CELEBAMASK_HQ_PARTS:
        part_path(tmp_path, 1, part).unlink(missing_ok=True)
    ds = CelebAMaskHQ(tmp_path)
    with pytest.raises(MissingDatasetFile, match=r"image 1 has no mask part files.*00001_skin"):
        ds[1]
    _save(np.zeros((8, 8), np.uint8), part_path(tmp_path, 0, "hair"))  # wrong size
    with pytest.raises(ValueError, match="same size"):
        ds[0]
    part_path(tmp_path, 2001, "skin").write_bytes(b"not a png")
    with pytest.raises(DatasetFileError, match="02001_skin.png"):
        ds[2]
    with pytest.raises(MissingDatasetFile, match="7.jpg"):
        CelebAMaskHQ(tmp_path, indices=[0, 7])
    (tmp_path / "CelebAMask-HQ-attribute-anno.txt").unlink()
    with pytest.raises(MissingDatasetFile, match="celebamask_hq --root"):
        CelebAMaskHQ(tmp_path)


def test_celebamask_hq_wrong_layout(tmp_path):
    _fake_celebamask_hq(tmp_path / "CelebAMask-HQ")
    with pytest.raises(MissingDatasetFile, match="CelebA-HQ-img"):
        CelebAMaskHQ(tmp_path)  # one folder level too high


def test_synth_writer_output_loads(tmp_path):
    """The face world's CelebAMask-HQ writer produces a set this loader reads exactly."""
    from maskstyle.data.synth.dataset import SynthFaces
    from maskstyle.data.synth.writer import write_celebamask_hq

    faces = SynthFaces(2, size=32, seed=0)
    write_celebamask_hq(faces, tmp_path)
    ds = CelebAMaskHQ(tmp_path)
    assert ds.indices == [0, 1]
    for k in range(2):
        sample = ds[k]
        assert torch.equal(sample["mask"], faces[k]["mask"])  # PNG parts are lossless
        assert sample["image"].shape == faces[k]["image"].shape
        assert (sample["image"] - faces[k]["image"]).abs().mean() < 0.05  # JPEG, quality 95
        assert sample["attrs"] == {a: bool(v) for a, v in faces[k]["attrs"].items()}
        assert (sample["mask"] == LABEL_INDEX["skin"]).any()


# --- FFHQ ----------------------------------------------------------------------------------


@pytest.fixture
def ffhq_root(tmp_path):
    labels = {}
    for k in (0, 1, 2000):
        _save(
            _rgb(16, 16, k),
            tmp_path / "images1024x1024" / f"{k // 1000 * 1000:05d}" / f"{k:05d}.png",
        )
        labels[k] = np.random.default_rng(k).integers(0, NUM_CLASSES, (16, 16), dtype=np.uint8)
        _save(labels[k], tmp_path / "labels" / f"{k:05d}.png", mode="L")
    return tmp_path, labels


def test_ffhq_images_labels_and_eval_split(ffhq_root):
    root, labels = ffhq_root
    ds = FFHQ(root, label_dir=root / "labels")
    assert ds.indices == [0, 1, 2000]
    assert FFHQ(root, split="eval").indices == [0, 1]
    assert FFHQ(root, split="rest").indices == [2000]
    sample = ds[2]
    assert sample["index"] == 2000 and np.array_equal(sample["mask"].numpy(), labels[2000])
    assert "mask" not in FFHQ(root)[0]


def test_ffhq_bad_label_maps(ffhq_root):
    root, _ = ffhq_root
    _save(np.full((16, 16), 19, np.uint8), root / "labels" / "00000.png", mode="L")
    _save(_rgb(16, 16, 3), root / "labels" / "00001.png")
    ds = FFHQ(root, label_dir=root / "labels")
    with pytest.raises(DatasetFileError, match="holds label 19"):
        ds[0]
    with pytest.raises(DatasetFileError, match="single-channel"):
        ds[1]
    with pytest.raises(FileNotFoundError, match="label folder"):
        FFHQ(root, label_dir=root / "nolabels")
    with pytest.raises(MissingDatasetFile, match="00005.png"):
        FFHQ(root, indices=[5])


# --- LaPa ----------------------------------------------------------------------------------


def test_lapa_mapping_by_name():
    by_name = {
        "background": "background",
        "skin": "skin",
        "left eyebrow": "l_brow",
        "right eyebrow": "r_brow",
        "left eye": "l_eye",
        "right eye": "r_eye",
        "nose": "nose",
        "upper lip": "u_lip",
        "inner mouth": "mouth",
        "lower lip": "l_lip",
        "hair": "hair",
    }
    from maskstyle.data.loaders.lapa import LAPA_CLASSES

    assert list(LAPA_TO_CELEBAMASK) == [LABEL_INDEX[by_name[c]] for c in LAPA_CLASSES]
    labels = torch.arange(11).reshape(1, 11)
    assert lapa_to_celebamask(labels).tolist() == [list(LAPA_TO_CELEBAMASK)]
    with pytest.raises(ValueError, match="0..10"):
        lapa_to_celebamask(torch.tensor([[11]]))


@pytest.fixture
def lapa_root(tmp_path):
    for split, names in (("train", ["a", "b"]), ("val", ["c"]), ("test", ["d"])):
        for i, name in enumerate(names):
            size = 24 if name != "b" else 12
            _save(_rgb(size, size, i), tmp_path / split / "images" / f"{name}.jpg")
            labels = (np.arange(size * size) % 11).reshape(size, size).astype(np.uint8)
            _save(labels, tmp_path / split / "labels" / f"{name}.png", mode="L")
            points = [[x, x / 2] for x in range(106)]
            lines = ["106"] + [f"{x} {y}" for x, y in points]
            (tmp_path / split / "landmarks").mkdir(parents=True, exist_ok=True)
            (tmp_path / split / "landmarks" / f"{name}.txt").write_text("\n".join(lines))
    return tmp_path


def test_lapa_loads_mapped_masks_and_landmarks(lapa_root):
    ds = LaPa(lapa_root, split="train", landmarks=True)
    assert len(ds) == 2
    sample = ds[0]
    raw = np.asarray(Image.open(lapa_root / "train" / "labels" / "a.png")).astype(np.int64)
    assert np.array_equal(sample["mask"].numpy(), np.array(LAPA_TO_CELEBAMASK)[raw])
    assert sample["landmarks"].shape == (106, 2)
    resized = LaPa(lapa_root, split="train", landmarks=True, size=12)[0]
    assert torch.allclose(resized["landmarks"], sample["landmarks"] / 2)
    assert len(LaPa(lapa_root, split="trainval")) == 3
    assert len(LaPa(lapa_root, split="trainval", min_size=20)) == 2  # drops the 12 px image


def test_lapa_errors(lapa_root):
    (lapa_root / "test" / "labels" / "d.png").unlink()
    with pytest.raises(MissingDatasetFile, match=r"d\.png.*maskstyle data verify lapa"):
        LaPa(lapa_root, split="test")[0]
    _save(np.full((24, 24), 12, np.uint8), lapa_root / "val" / "labels" / "c.png", mode="L")
    with pytest.raises(DatasetFileError, match="0..10"):
        LaPa(lapa_root, split="val")[0]
    with pytest.raises(MissingDatasetFile, match="images"):
        LaPa(lapa_root / "train", split="train")  # root one level too deep


# --- ImageFolder ---------------------------------------------------------------------------


def test_image_folder_is_recursive_sorted_and_filtered(tmp_path):
    for rel in ("b/2.png", "a/9.JPG", "a/10.jpg", "c.jpeg"):
        _save(_rgb(10, 12, len(rel)), tmp_path / rel)
    (tmp_path / "notes.txt").write_text("not an image")
    ds = ImageFolder(tmp_path, dataset="coco2017")
    rel = [p.relative_to(tmp_path).as_posix() for p in ds.files]
    assert rel == ["a/10.jpg", "a/9.JPG", "b/2.png", "c.jpeg"]
    assert [p.name for p in ImageFolder(tmp_path, extensions=("png",)).files] == ["2.png"]
    assert len(ImageFolder(tmp_path, recursive=False)) == 1
    sample = ImageFolder(tmp_path, size=(4, 6))[0]
    assert sample["image"].shape == (3, 4, 6) and "mask" not in sample
    assert sample["dataset"] == "image_folder"


def test_image_folder_errors(tmp_path):
    with pytest.raises(MissingDatasetFile, match="painter_by_numbers"):
        ImageFolder(tmp_path, dataset="painter_by_numbers")
    with pytest.raises(MissingDatasetFile, match="does not exist"):
        ImageFolder(tmp_path / "absent")


# --- FPB pairs -----------------------------------------------------------------------------


def test_stratified_split_keeps_seventy_percent_of_each_kind():
    kinds = ["generated"] * 10 + ["real"] * 10
    kinds[3], kinds[15] = "real", "generated"
    train, val = stratified_split(kinds, 0.7)
    assert sorted(train + val) == list(range(20))
    for kind in ("generated", "real"):
        rows = [i for i, k in enumerate(kinds) if k == kind]
        assert [i for i in train if kinds[i] == kind] == rows[:7]
        assert [i for i in val if kinds[i] == kind] == rows[7:]
    with pytest.raises(ValueError, match="train_fraction"):
        stratified_split(kinds, 1.0)


@pytest.fixture
def fpb_root(tmp_path):
    names = [f"f{i}.png" for i in range(6)]
    for i, name in enumerate(names):
        _save(_rgb(16, 16, i), tmp_path / "images" / name)
        mask = np.full((16, 16), i % NUM_CLASSES, np.uint8)
        _save(mask, tmp_path / "masks" / f"f{i}.png", mode="L")
    with (tmp_path / "pairs.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "target", "kind"])
        writer.writerow(["f0.png", "f1.png", "f2.png", "generated"])
        writer.writerow(["f2.png", "f3.png", "", "generated"])
        writer.writerow(["f4.png", "f5.png", "", "real"])
    return tmp_path


def test_fpb_pairs(fpb_root):
    train = FPBPairs(fpb_root, split="train")
    val = FPBPairs(fpb_root, split="val")
    # generated rows 0, 1 -> round(0.7 * 2) = 1 trains; real row 2 -> round(0.7) = 1 trains
    assert train.row_numbers == [0, 2] and val.row_numbers == [1]
    assert val.kinds == ["generated"]
    everything = FPBPairs(fpb_root, split="all", size=8)
    sample = everything[0]
    assert sample["image_a"].shape == (3, 8, 8) and sample["target"].shape == (3, 8, 8)
    assert sample["mask_a"].shape == (8, 8) and int(sample["mask_b"][0, 0]) == 1
    assert sample["kind"] == "generated" and "target" not in everything[1]


def test_fpb_errors(fpb_root):
    (fpb_root / "masks" / "f3.png").unlink()
    with pytest.raises(MissingDatasetFile, match=r"f3\.png.*verify fpb"):
        FPBPairs(fpb_root, split="all")[1]
    (fpb_root / "pairs.csv").write_text("left,right\nf0.png,f1.png\n")
    with pytest.raises(DatasetFileError, match="columns a,b"):
        FPBPairs(fpb_root)
    (fpb_root / "pairs.csv").unlink()
    with pytest.raises(MissingDatasetFile, match="pairs.csv"):
        FPBPairs(fpb_root)
