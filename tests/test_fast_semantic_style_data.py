"""Training data streams and the decoder-training command of the fast semantic series."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.models.fast_semantic_style.data import (
    ImageFolder,
    PairStream,
    face_world_pairs,
    folder_pairs,
)
from maskstyle.models.fast_semantic_style.train import main as train_main


class Numbers(torch.utils.data.Dataset):
    def __init__(self, n, offset=0.0, masks=True):
        self.n, self.offset, self.masks = n, offset, masks

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        item = {"image": torch.full((3, 4, 4), self.offset + i)}
        if self.masks:
            item["mask"] = torch.full((4, 4), i, dtype=torch.long)
        return item


def test_pair_stream_is_deterministic_and_resumable():
    stream = PairStream(Numbers(5), Numbers(7, 100.0), batch_size=3, seed=4)
    first = [next(stream) for _ in range(4)]
    assert first[0]["content"].shape == (3, 3, 4, 4) and "content_mask" in first[0]
    again = PairStream(Numbers(5), Numbers(7, 100.0), batch_size=3, seed=4)
    again.load_state_dict({"position": 2})
    assert torch.equal(next(again)["style"], first[2]["style"])
    assert stream.state_dict() == {"position": 4}
    other = PairStream(Numbers(5), Numbers(7, 100.0), batch_size=3, seed=5)
    assert not all(torch.equal(next(other)["content"], b["content"]) for b in first[:1] * 3)
    no_masks = PairStream(Numbers(5, masks=False), Numbers(7), batch_size=1)
    assert "content_mask" not in next(no_masks)
    with pytest.raises(ValueError, match="batch_size"):
        PairStream(Numbers(5), Numbers(7), batch_size=0)


def test_image_folder(tmp_path):
    for i, (w, h) in enumerate([(40, 30), (30, 50)]):
        Image.fromarray(np.full((h, w, 3), 60 * i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    folder = ImageFolder(tmp_path, size=16)
    assert len(folder) == 2 and folder[1]["image"].shape == (3, 16, 16)
    assert float(folder[1]["image"].mean()) == pytest.approx(60 / 255, abs=1e-3)
    stream, description = folder_pairs(tmp_path, tmp_path, size=16, batch_size=2)
    assert next(stream)["content"].shape == (2, 3, 16, 16) and "2 content images" in description
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ImageFolder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        ImageFolder(tmp_path / "empty")


def test_face_world_pairs_carry_masks():
    stream, description = face_world_pairs(4, 4, size=32, batch_size=2, seed=0)
    batch = next(stream)
    assert batch["content"].shape == (2, 3, 32, 32) and batch["style_mask"].shape == (2, 32, 32)
    assert "synthetic" in description


def test_train_command_writes_summary_and_resumes(tmp_path):
    args = ["--steps", "1", "--size", "32", "--batch-size", "1", "--n-faces", "2",
            "--out", str(tmp_path), "--no-progress", "--log-every", "1"]  # fmt: skip
    summary = train_main(args)
    assert summary["steps"] == 1 and set(summary["last"]) == {"feature", "tv", "total"}
    assert "face world" in summary["data"] and "random init" in summary["encoder"]
    assert json.loads((tmp_path / "summary.json").read_text())["layer"] == "relu3_1"
    assert (tmp_path / "history.csv").exists()
    longer = train_main([*args[:1], "2", *args[2:]])  # resumes at step 1
    assert longer["steps"] == 2
    with pytest.raises(SystemExit):
        train_main([*args, "--content-dir", str(tmp_path)])
