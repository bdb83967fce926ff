"""Labelled portrait folders (style portraits + label maps) on tiny fakes."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.data.loaders import DatasetFileError, MissingDatasetFile
from maskstyle.data.portraits import LABELS_DIR, PortraitFolder, centre_square
from maskstyle.data.synth import painted_portrait
from maskstyle.utils import save_image, save_mask


def _portrait_folder(root, n=2, size=32, unlabelled=()):
    portraits = [painted_portrait(i, size, "oil") for i in range(n)]
    for i, p in enumerate(portraits):
        save_image(p["image"], root / f"p{i}.png")
        if i not in unlabelled:
            save_mask(p["mask"], root / LABELS_DIR / f"p{i}.png")
    return portraits


def test_reads_portraits_and_their_label_maps(tmp_path):
    portraits = _portrait_folder(tmp_path, 2)
    folder = PortraitFolder(tmp_path)
    assert len(folder) == 2 and folder.parsed == []
    for i, p in enumerate(portraits):
        item = folder[i]
        assert torch.equal(item["mask"], p["mask"].long())
        assert item["mask"].dtype == torch.int64
        # PNG stores 8 bits: equal to the portrait up to rounding
        assert float((item["image"] - p["image"].clamp(0, 1)).abs().max()) <= 0.5 / 255 + 1e-6
        assert item["mask_source"].endswith(f"{LABELS_DIR}/p{i}.png")
    assert (
        "2 portraits" in folder.description and "label maps: 2 from labels/" in folder.description
    )


def test_size_centre_crops_image_and_mask_together(tmp_path):
    image = torch.rand(3, 20, 30)
    mask = torch.zeros(20, 30, dtype=torch.long)
    mask[:, 5:25] = 1  # the central 20 columns are region 1
    save_image(image, tmp_path / "wide.png")
    save_mask(mask, tmp_path / LABELS_DIR / "wide.png")
    item = PortraitFolder(tmp_path, size=10)[0]
    assert item["image"].shape == (3, 10, 10) and item["mask"].shape == (10, 10)
    assert bool((item["mask"] == 1).all())
    cropped, cropped_mask = centre_square(image, mask, 20)
    torch.testing.assert_close(cropped, image[:, :, 5:25])
    assert torch.equal(cropped_mask, mask[:, 5:25])


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*labels"):
        PortraitFolder(tmp_path / "nowhere")
    (tmp_path / LABELS_DIR).mkdir()
    with pytest.raises(MissingDatasetFile, match="no portraits"):
        PortraitFolder(tmp_path)  # labels/ alone holds no portraits


def test_unlabelled_portrait_without_a_face_is_an_error(tmp_path):
    _portrait_folder(tmp_path, 1)
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path / "plain.png")
    with pytest.warns(UserWarning, match="parse_face"):
        folder = PortraitFolder(tmp_path)
    assert (
        folder.parsed == ["plain.png"]
        and "1 made by maskstyle.data.parse_face" in folder.description
    )
    with pytest.raises(ValueError, match=r"parse_face found no face.*labels/plain\.png"):
        folder[1]
    with pytest.raises(MissingDatasetFile, match="have no label map"):
        PortraitFolder(tmp_path, parse_missing=False)


def test_unlabelled_portrait_gets_a_parse_face_mask(tmp_path, monkeypatch):
    portraits = _portrait_folder(tmp_path, 2, unlabelled=(1,))
    calls = []

    def fake_parse_face(image):
        calls.append(tuple(image.shape))
        return torch.full(image.shape[-2:], 13, dtype=torch.long)

    module = importlib.import_module("maskstyle.data.parse_face")
    monkeypatch.setattr(module, "parse_face", fake_parse_face)
    with pytest.warns(UserWarning, match="p1.png"):
        folder = PortraitFolder(tmp_path)
    item = folder[1]
    assert item["mask_source"] == "parse_face" and bool((item["mask"] == 13).all())
    folder[1]
    assert calls == [(3, 32, 32)]  # parsed once, then cached
    assert torch.equal(folder[0]["mask"], portraits[0]["mask"].long())


def test_bad_label_maps(tmp_path):
    _portrait_folder(tmp_path, 1)
    save_mask(torch.full((16, 16), 1), tmp_path / LABELS_DIR / "p0.png")
    with pytest.raises(DatasetFileError, match="must have its portrait's size"):
        PortraitFolder(tmp_path)[0]
    save_mask(torch.full((32, 32), 40), tmp_path / LABELS_DIR / "p0.png")
    with pytest.raises(DatasetFileError, match="labels are 0..18"):
        PortraitFolder(tmp_path)[0]
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / LABELS_DIR / "p0.png")
    with pytest.raises(DatasetFileError, match="single-channel"):
        PortraitFolder(tmp_path)[0]
    with pytest.raises(ValueError, match="size must be"):
        PortraitFolder(tmp_path, size=0)
