"""Face world as a dataset, on disk (CelebAMask-HQ layout) and from the command line."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from maskstyle.data.labels import LABELS
from maskstyle.data.synth import cli
from maskstyle.data.synth.attributes import CELEBA_ATTRIBUTES
from maskstyle.data.synth.check import check_rendered_set
from maskstyle.data.synth.dataset import KINDS, SynthFaces, collate
from maskstyle.data.synth.writer import (
    ATTRIBUTE_FILE,
    read_attributes,
    write_celebamask_hq,
)

# ---------------------------------------------------------------- dataset


def test_items_do_not_depend_on_access_order():
    forward = SynthFaces(5, 32, seed=3)
    backward = SynthFaces(5, 32, seed=3)
    first = [forward[i] for i in range(5)]
    last = [backward[i] for i in reversed(range(5))][::-1]
    for a, b in zip(first, last):
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    assert torch.equal(forward[-1]["image"], first[4]["image"])
    assert not torch.equal(first[0]["image"], first[1]["image"])
    other_seed = SynthFaces(5, 32, seed=4)[0]
    assert not torch.equal(other_seed["image"], first[0]["image"])


def test_index_out_of_range_and_bad_arguments():
    data = SynthFaces(3, 32)
    assert len(data) == 3
    for index in (3, -4):
        with pytest.raises(IndexError, match="out of range for SynthFaces of length 3"):
            data[index]
    with pytest.raises(ValueError, match="unknown kind 'pairs'; valid kinds: single"):
        SynthFaces(3, 32, kind="pairs")
    with pytest.raises(ValueError, match="between 32 and 512"):
        SynthFaces(3, 16)
    with pytest.raises(ValueError, match="n must be a positive int"):
        SynthFaces(0, 32)
    with pytest.raises(TypeError, match="takes no options \\['style'\\]"):
        SynthFaces(3, 32, kind="single", style="oil")
    with pytest.raises(ValueError, match="unknown paint style 'cubist'"):
        SynthFaces(3, 32, kind="painted", style="cubist")
    with pytest.raises(ValueError, match="no counterfactual for attribute 'Young'"):
        SynthFaces(3, 32, kind="counterfactual", attribute="Young")
    with pytest.raises(ValueError, match="lights must be a positive int"):
        SynthFaces(3, 32, kind="lighting", lights=0)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_and_collates(kind):
    options = {"lighting": {"lights": 2}, "counterfactual": {"attribute": "Smiling"}}
    data = SynthFaces(2, 32, seed=1, kind=kind, **options.get(kind, {}))
    batch = next(iter(DataLoader(data, batch_size=2, collate_fn=collate)))
    if kind == "single" or kind == "painted":
        assert batch["image"].shape == (2, 3, 32, 32) and batch["mask"].shape == (2, 32, 32)
        assert isinstance(batch["params"], list) and len(batch["params"]) == 2
        assert batch["attrs"]["Smiling"].shape == (2,)
    elif kind == "blend":
        assert batch["target"]["image"].shape == (2, 3, 32, 32)
    elif kind == "counterfactual":
        assert batch["attribute"] == ["Smiling", "Smiling"]
        assert batch["region"].shape == (2, 32, 32)
    else:
        assert len(batch["series"]) == 2 and batch["series"][0]["mask"].shape == (2, 32, 32)


def test_dataloader_workers_give_the_same_items():
    data = SynthFaces(4, 32, seed=2)
    loaded = next(iter(DataLoader(data, batch_size=4, collate_fn=collate, num_workers=2)))
    direct = collate([data[i] for i in range(4)])
    assert torch.equal(loaded["image"], direct["image"])


# ---------------------------------------------------------------- writer


def _merge(root, k, size):
    """Independent merge of CelebAMask-HQ part files: label order, later overwrite earlier."""
    mask = np.zeros((size, size), np.int64)
    for label, part in enumerate(LABELS[1:], start=1):
        path = root / "CelebAMask-HQ-mask-anno" / str(k // 2000) / f"{k:05d}_{part}.png"
        if path.exists():
            png = np.asarray(Image.open(path))
            assert png.dtype == np.uint8 and png.ndim == 2 and set(np.unique(png)) <= {0, 255}
            mask[png == 255] = label
    return mask


@pytest.mark.parametrize("image_format", ["jpg", "png"])
def test_writer_round_trips_masks_images_and_attributes(tmp_path, image_format):
    data = SynthFaces(3, 32, seed=5)
    write_celebamask_hq(data, tmp_path, image_format=image_format)
    for k in range(3):
        sample = data[k]
        np.testing.assert_array_equal(_merge(tmp_path, k, 32), sample["mask"].numpy())
        image = np.asarray(Image.open(tmp_path / "CelebA-HQ-img" / f"{k}.{image_format}"))
        assert image.shape == (32, 32, 3) and image.dtype == np.uint8
        err = np.abs(image / 255.0 - sample["image"].permute(1, 2, 0).numpy()).mean()
        assert err < (0.02 if image_format == "jpg" else 0.5 / 255)
    lines = (tmp_path / ATTRIBUTE_FILE).read_text().splitlines()
    assert lines[0] == "3" and lines[1].split() == list(CELEBA_ATTRIBUTES)
    names, rows = read_attributes(tmp_path)
    assert rows["1.jpg"] == data[1]["attrs"] and lines[3].split()[0] == "1.jpg"
    assert all(v in ("1", "-1") for v in lines[2].split()[1:])
    prov = json.loads((tmp_path / "face_world.json").read_text())
    assert prov["generator"] == "maskstyle.data.synth"
    assert (prov["seed"], prov["size"], prov["kind"], prov["n"]) == (5, 32, "single", 3)
    assert prov["synthetic"] is True and prov["count"] == 3


def test_writer_rejects_pairs_and_bad_format(tmp_path):
    with pytest.raises(ValueError, match="is not a single face"):
        write_celebamask_hq(SynthFaces(1, 32, kind="blend"), tmp_path)
    with pytest.raises(ValueError, match="image_format must be one of"):
        write_celebamask_hq(SynthFaces(1, 32), tmp_path, image_format="bmp")


def test_read_attributes_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no attribute file"):
        read_attributes(tmp_path)


# ---------------------------------------------------------------- command line


def _main(argv):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_render_then_check(tmp_path, capsys):
    out = tmp_path / "set"
    argv = ["faceworld", "render", "--out", str(out), "--n", "4", "--size", "32", "--seed", "1"]
    assert _main(argv) == 0
    assert len(list((out / "CelebA-HQ-img").glob("*.jpg"))) == 4
    assert _main(["faceworld", "check", str(out)]) == 0
    report = capsys.readouterr().out
    assert "all 7 checks passed" in report and "FAIL" not in report


def test_cli_check_rejects_broken_sets(tmp_path, capsys):
    out = tmp_path / "set"
    _main(["faceworld", "render", "--out", str(out), "--n", "4", "--size", "32"])
    (out / "CelebAMask-HQ-mask-anno" / "0" / "00002_nose.png").unlink()
    assert _main(["faceworld", "check", str(out)]) == 1
    report = capsys.readouterr().out
    assert "FAIL  face parts" in report and "image 2 has no nose" in report
    (out / "CelebA-HQ-img" / "3.jpg").unlink()
    assert _main(["faceworld", "check", str(out)]) == 1
    assert "FAIL  image count" in capsys.readouterr().out


def test_check_detects_a_set_that_is_not_its_seed(tmp_path):
    out = tmp_path / "set"
    write_celebamask_hq(SynthFaces(2, 32, seed=1), out)
    prov = json.loads((out / "face_world.json").read_text())
    (out / "face_world.json").write_text(json.dumps({**prov, "seed": 2}))
    results = {name: (ok, detail) for name, ok, detail in check_rendered_set(out)}
    assert results["determinism"][0] is False and "differs" in results["determinism"][1]


def test_check_names_a_directory_without_provenance(tmp_path):
    [(name, ok, detail)] = check_rendered_set(tmp_path)
    assert name == "provenance" and not ok and "face_world.json is missing" in detail
