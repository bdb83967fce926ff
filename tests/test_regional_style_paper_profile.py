"""The regional style series' paper profile up to data loading, on fake CelebAMask-HQ, FFHQ
and LaPa layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.data.labels import NUM_CLASSES


def _save(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def fake_paper_layouts(root: Path) -> dict[str, Path]:
    """Tiny fakes: CelebAMask-HQ (3 face-world faces), FFHQ (indices 0, 1, 2000 + label maps),
    LaPa (train 2 images, one of them 12 px; val 1; test 1)."""
    from maskstyle.data.synth import SynthFaces
    from maskstyle.data.synth.writer import write_celebamask_hq

    rng = np.random.default_rng(0)
    celeb = write_celebamask_hq(SynthFaces(3, 32, seed=0), root / "celebamask")
    ffhq = root / "ffhq"
    for k in (0, 1, 2000):
        _save(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8),
              ffhq / "images1024x1024" / f"{k // 1000 * 1000:05d}" / f"{k:05d}.png")  # fmt: skip
        _save(rng.integers(0, NUM_CLASSES, (16, 16), dtype=np.uint8),
              ffhq / "labels" / f"{k:05d}.png")  # fmt: skip
    lapa = root / "lapa"
    for split, names in (("train", ["a", "b"]), ("val", ["c"]), ("test", ["d"])):
        for name in names:
            size = 12 if name == "b" else 24
            _save(rng.integers(0, 255, (size, size, 3), dtype=np.uint8),
                  lapa / split / "images" / f"{name}.jpg")  # fmt: skip
            _save((np.arange(size * size) % 11).reshape(size, size).astype(np.uint8),
                  lapa / split / "labels" / f"{name}.png")  # fmt: skip
    return {"celebamask_hq": celeb, "ffhq": ffhq, "lapa": lapa}


def test_load_paper_data_reads_the_three_layouts(tmp_path):
    from maskstyle.models.regional_style.notebook import PAPER_SPLITS, load_paper_data

    roots = fake_paper_layouts(tmp_path)
    labels = str(roots["ffhq"] / "labels")
    data = load_paper_data({k: str(v) for k, v in roots.items()}, 16, labels, lapa_min_size=20)
    assert set(data) == {f"{n}/{s}" for n, splits in PAPER_SPLITS.items() for s in splits}
    counts = {k: len(v) for k, v in data.items()}
    assert counts == {"celebamask_hq/train": 3, "celebamask_hq/test": 0, "ffhq/eval": 2,
                      "lapa/trainval": 2, "lapa/test": 1}  # fmt: skip
    for key in ("celebamask_hq/train", "ffhq/eval", "lapa/test"):
        item = data[key][0]
        assert item["image"].shape == (3, 16, 16) and item["labels"].shape == (16, 16)
        assert item["labels"].dtype == torch.int64 and int(item["labels"].max()) < NUM_CLASSES
    with pytest.raises(ValueError, match="unknown dataset"):
        load_paper_data({"helen": str(tmp_path)}, 16)
    with pytest.raises(ValueError, match="label_dir"):
        load_paper_data({"ffhq": str(roots["ffhq"])}, 16)


def test_paper_profile_data_notebook_on_fake_layouts(tmp_path):
    """01_data with the paper profile's data parameters, the fake roots and small face-world
    sizes (the paper's 256 px would only slow the test)."""
    import papermill
    import yaml

    from maskstyle.workbook import repo_root

    roots = fake_paper_layouts(tmp_path / "data")
    paper = yaml.safe_load((repo_root() / "notebooks/regional_style/paper.yaml").read_text())
    assert set(paper["parameters"]["data_roots"]) == set(roots)
    data01 = paper["notebooks"]["01_data.ipynb"]
    out = tmp_path / "out"
    params = {
        "profile": "paper", "output_dir": str(out), "image_size": 32, "n_train": 4, "n_test": 2,
        "data_roots": {k: str(v) for k, v in roots.items()},
        "ffhq_label_dir": str(roots["ffhq"] / "labels"), "lapa_min_size": 20,
    }  # fmt: skip
    assert set(data01) == {"ffhq_label_dir", "lapa_min_size"}
    papermill.execute_notebook(
        str(repo_root() / "notebooks/regional_style/01_data.ipynb"),
        str(tmp_path / "executed.ipynb"), parameters=params,
        cwd=str(repo_root() / "notebooks/regional_style"), progress_bar=False,
    )  # fmt: skip
    import json

    metrics = json.loads((out / "metrics.json").read_text())["entries"]["data"]["metrics"]
    assert metrics["celebamask_hq/train_faces"] == 3 and metrics["ffhq/eval_faces"] == 2
    assert metrics["lapa/trainval_faces"] == 2 and (out / "data_faces.png").exists()
