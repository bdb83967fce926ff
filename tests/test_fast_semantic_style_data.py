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


# --- transfer inputs from CelebAMask-HQ and a labelled portrait folder (tiny fakes) -------


@pytest.fixture(scope="module")
def real_roots(tmp_path_factory):
    from maskstyle.data.labels import LABELS
    from maskstyle.data.synth import SynthFaces, painted_portrait
    from maskstyle.data.synth.writer import write_celebamask_hq
    from maskstyle.utils import save_image, save_mask

    root = tmp_path_factory.mktemp("fss_real")
    faces = SynthFaces(3, size=32, seed=0, kind="single")
    write_celebamask_hq(faces, root / "celebamask", image_format="png")
    portraits = [painted_portrait(10 + i, 32, "oil") for i in range(2)]
    for i, p in enumerate(portraits):
        save_image(p["image"], root / "portraits" / f"painting{i}.png")
        save_mask(p["mask"], root / "portraits" / "labels" / f"painting{i}.png")
    assert len(LABELS) == 19
    return root / "celebamask", root / "portraits", faces, portraits


def test_content_and_style_samples_from_real_folders(real_roots):
    from maskstyle.models.fast_semantic_style.data import content_samples, style_samples

    data_root, style_root, faces, portraits = real_roots
    content, c_text = content_samples(4, 32, seed=1, data_root=data_root)
    assert [s["title"] for s in content] == [f"CelebA-HQ {k}" for k in (1, 2, 0, 1)]
    for sample, k in zip(content, (1, 2, 0, 1)):
        assert torch.equal(sample["mask"], faces[k]["mask"].long())  # masks are lossless
        assert sample["image"].shape == (3, 32, 32)
    assert str(data_root) in c_text and "[1, 2, 0, 1]" in c_text
    assert "face world (synthetic) in CelebAMask-HQ's layout" in c_text  # the writer's copy
    (data_root / "face_world.json").rename(data_root / "moved.json")
    try:
        _, real_text = content_samples(1, 32, data_root=data_root)
    finally:
        (data_root / "moved.json").rename(data_root / "face_world.json")
    assert real_text.startswith("CelebAMask-HQ (")
    style, s_text = style_samples(2, 32, seed=1, style_root=style_root)
    assert torch.equal(style[0]["mask"], portraits[1]["mask"].long())
    assert torch.equal(style[1]["mask"], portraits[0]["mask"].long())
    assert "label maps: 2 from labels/" in s_text and "painting1.png" in s_text
    world, w_text = style_samples(3, 32, seed=5, paint_styles=("oil", "watercolour"))
    assert [s["title"] for s in world] == ["oil", "watercolour", "oil"]
    assert "face world (synthetic)" in w_text


def test_transfer_example_face_world_or_real(real_roots):
    from maskstyle.models.fast_semantic_style.data import face_world_example, transfer_example

    data_root, style_root, faces, portraits = real_roots
    world = transfer_example(7, 8, 32)
    for a, b in zip(world[:4], face_world_example(7, 8, 32)[:4]):
        assert torch.equal(a, b)
    content, style, c_mask, s_mask, text = transfer_example(
        2, 1, 32, data_root=data_root, style_root=style_root
    )
    assert content.shape == style.shape == (1, 3, 32, 32) and c_mask.dtype == torch.long
    assert torch.equal(c_mask[0], faces[2]["mask"].long())
    assert torch.equal(s_mask[0], portraits[1]["mask"].long())
    assert "CelebAMask-HQ's layout" in text and "painting1.png" in text
    _, _, _, s_only, mixed = transfer_example(0, 3, 32, style_root=style_root)
    assert "face world" in mixed and "painting1.png" in mixed  # 3 mod 2 portraits


def test_transfer_inputs_bad_roots(tmp_path, real_roots):
    from maskstyle.models.fast_semantic_style.data import content_samples, style_samples

    with pytest.raises(FileNotFoundError, match="celebamask_hq"):
        content_samples(1, 32, data_root=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="portrait folder .* does not exist"):
        style_samples(1, 32, style_root=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="n must be"):
        style_samples(0, 32)
