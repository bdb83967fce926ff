"""maskstyle.utils: image/mask I/O round trips, conversions, palette, grids, size cap,
environment provenance."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.data.labels import LABELS, PALETTE
from maskstyle.utils import (
    colorize_mask,
    environment_info,
    image_grid,
    label_legend,
    load_image,
    load_mask,
    rng_state,
    save_figure,
    save_image,
    save_mask,
    seed_everything,
    seed_worker,
    set_rng_state,
    show_images,
    to_numpy_image,
    to_tensor_image,
)


def _image(h=12, w=10, seed=0) -> torch.Tensor:
    return torch.rand(3, h, w, generator=torch.Generator().manual_seed(seed))


# --- seed re-exports --------------------------------------------------------------------


def test_seed_helpers_reexported():
    from maskstyle.utils import seed

    assert seed_everything is seed.seed_everything and seed_worker is seed.seed_worker
    assert rng_state is seed.rng_state and set_rng_state is seed.set_rng_state


# --- conversions ------------------------------------------------------------------------


def test_numpy_tensor_round_trip():
    x = _image()
    array = to_numpy_image(x)
    assert array.shape == (12, 10, 3) and array.dtype == np.uint8
    np.testing.assert_array_equal(array, np.round(x.permute(1, 2, 0).numpy() * 255))
    back = to_tensor_image(array)
    assert back.shape == (3, 12, 10) and back.dtype == torch.float32
    assert (back - x).abs().max() <= 0.5 / 255 + 1e-6
    torch.testing.assert_close(to_tensor_image(to_numpy_image(back)), back)  # exact on levels
    floats = to_numpy_image(x[None], dtype="float32")
    np.testing.assert_allclose(floats, x.permute(1, 2, 0).numpy())


def test_conversion_grayscale_and_errors():
    gray = torch.rand(6, 7)
    assert to_numpy_image(gray).shape == (6, 7)
    assert to_tensor_image(to_numpy_image(gray)).shape == (1, 6, 7)
    with pytest.raises(ValueError, match="RGBA"):
        to_tensor_image(np.zeros((4, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        to_tensor_image(np.full((4, 4, 3), 2.0))
    with pytest.raises(ValueError, match="channels-last"):
        to_numpy_image(torch.rand(8, 8, 3))
    with pytest.raises(TypeError, match="float image"):
        to_numpy_image(torch.ones(3, 4, 4, dtype=torch.long))


# --- image and mask I/O -----------------------------------------------------------------


def test_save_load_image_round_trip(tmp_path):
    x = _image()
    path = save_image(x, tmp_path / "sub" / "x.png")
    loaded = load_image(path)
    assert loaded.shape == (3, 12, 10) and loaded.dtype == torch.float32
    torch.testing.assert_close(loaded, torch.round(x * 255) / 255)
    array = (np.arange(12 * 10 * 3) % 256).astype(np.uint8).reshape(12, 10, 3)
    save_image(array, tmp_path / "a.png")
    np.testing.assert_array_equal(to_numpy_image(load_image(tmp_path / "a.png")), array)


def test_load_image_resizes_and_converts_gray(tmp_path):
    Image.fromarray(np.full((20, 30), 128, dtype=np.uint8), mode="L").save(tmp_path / "g.png")
    x = load_image(tmp_path / "g.png", size=(10, 12))
    assert x.shape == (3, 10, 12)
    torch.testing.assert_close(x, torch.full_like(x, 128 / 255))
    assert load_image(tmp_path / "g.png", size=8).shape == (3, 8, 8)
    save_image(_image(), tmp_path / "x.jpg")  # lossy formats are fine for images
    assert load_image(tmp_path / "x.jpg").shape == (3, 12, 10)


def test_missing_image_and_mask_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="image file not found: .*nope.png"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(FileNotFoundError, match="mask file not found"):
        load_mask(tmp_path / "nope.png")


def test_mask_round_trip(tmp_path):
    mask = torch.randint(0, len(LABELS), (9, 11), generator=torch.Generator().manual_seed(0))
    path = save_mask(mask, tmp_path / "m.png")
    with Image.open(path) as img:
        assert img.mode == "L"
    loaded = load_mask(path)
    assert loaded.dtype == torch.int64 and torch.equal(loaded, mask)
    save_mask(mask.numpy().astype(np.uint8), tmp_path / "n.png")
    assert torch.equal(load_mask(tmp_path / "n.png"), mask)


def test_mask_errors(tmp_path):
    with pytest.raises(ValueError, match="losslessly"):
        save_mask(torch.zeros(4, 4, dtype=torch.long), tmp_path / "m.jpg")
    with pytest.raises(TypeError, match="integer labels"):
        save_mask(torch.zeros(4, 4), tmp_path / "m.png")
    with pytest.raises(ValueError, match="0..255"):
        save_mask(torch.full((4, 4), 300), tmp_path / "m.png")
    with pytest.raises(ValueError, match=r"\[H, W\]"):
        save_mask(torch.zeros(2, 4, 4, dtype=torch.long), tmp_path / "m.png")
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    with pytest.raises(ValueError, match="not a single-channel label map"):
        load_mask(tmp_path / "rgb.png")
    save_mask(np.full((4, 4), 255), tmp_path / "part.png")
    with pytest.raises(ValueError, match="0/255 binary"):
        load_mask(tmp_path / "part.png")
    assert int(load_mask(tmp_path / "part.png", num_classes=None).max()) == 255


# --- palette ----------------------------------------------------------------------------


def test_colorize_mask_uses_palette():
    mask = torch.tensor([[0, 1], [13, 18]])
    rgb = colorize_mask(mask)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    for (i, j), label in np.ndenumerate(mask.numpy()):
        assert tuple(rgb[i, j]) == PALETTE[label]
    batch = colorize_mask(torch.stack([mask, mask.flip(0)]), as_tensor=True)
    assert batch.shape == (2, 3, 2, 2) and batch.dtype == torch.float32
    torch.testing.assert_close(batch[1, :, 0, 0], torch.tensor(PALETTE[13]) / 255.0)


def test_colorize_mask_errors():
    with pytest.raises(ValueError, match="palette covers labels 0..18"):
        colorize_mask(torch.tensor([[0, 19]]))
    with pytest.raises(TypeError, match="integer labels"):
        colorize_mask(torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"\[H, W\]"):
        colorize_mask(torch.zeros(1, 1, 2, 2, dtype=torch.long))


def test_label_legend_names_and_colours():
    fig = image_grid([torch.tensor([[0, 13], [13, 1]])], nrow=1)
    ax = fig.axes[0]
    legend = label_legend(ax, torch.tensor([[0, 13], [13, 1]]))
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["background", "skin", "hair"]
    colours = [tuple(np.round(np.array(h.get_facecolor()[:3]) * 255).astype(int))
               for h in legend.legend_handles]  # fmt: skip
    assert colours == [PALETTE[0], PALETTE[1], PALETTE[13]]
    legend = label_legend(ax, ["hair", 2])
    assert [t.get_text() for t in legend.get_texts()] == ["nose", "hair"]
    with pytest.raises(KeyError, match="unknown label"):
        label_legend(ax, ["beard"])


# --- figures ----------------------------------------------------------------------------


def test_image_grid_layout_and_titles():
    images = [_image(seed=k) for k in range(4)] + [torch.zeros(12, 10, dtype=torch.long)]
    fig = image_grid(images, nrow=3, titles=[f"t{k}" for k in range(5)])
    assert len(fig.axes) == 6  # 2 rows x 3
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 5
    assert [ax.get_title() for ax in shown] == [f"t{k}" for k in range(5)]
    np.testing.assert_array_equal(shown[0].images[0].get_array(), to_numpy_image(images[0]))
    assert len(image_grid(torch.rand(3, 3, 8, 8), nrow=8).axes) == 3  # one row of 3


def test_image_grid_errors():
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        image_grid([_image()] * 3, titles=["a", "b"])
    with pytest.raises(ValueError, match="at least one"):
        image_grid([])
    with pytest.raises(ValueError, match="nrow"):
        image_grid([_image()], nrow=0)


def test_show_images_returns_figure_outside_ipython():
    fig = show_images([_image()], nrow=1)
    assert len(fig.axes) == 1


def test_save_figure_caps_size(tmp_path):
    noise = torch.rand(3, 96, 96, generator=torch.Generator().manual_seed(0))
    fig = image_grid([noise] * 4, nrow=2, cell_size=3.0)
    big = save_figure(fig, tmp_path / "big.png", max_bytes=10**8, dpi=100)
    assert big.dpi == 100 and big.num_bytes == big.path.stat().st_size
    cap = big.num_bytes // 3
    small = save_figure(fig, tmp_path / "small.png", max_bytes=cap, dpi=100)
    assert small.dpi < 100
    assert small.path.stat().st_size == small.num_bytes <= cap
    with Image.open(small.path) as img:
        assert img.format == "PNG"


def test_save_figure_errors(tmp_path):
    fig = image_grid([_image()], nrow=1)
    with pytest.raises(ValueError, match=r"\.png"):
        save_figure(fig, tmp_path / "x.jpg")
    with pytest.raises(ValueError, match="still exceeds"):
        save_figure(fig, tmp_path / "x.png", max_bytes=50, min_dpi=20)
    assert not (tmp_path / "x.png").exists()


# --- provenance -------------------------------------------------------------------------


def test_environment_info_fields():
    info = environment_info()
    for key in ("python", "torch", "torchvision", "numpy", "device", "threads", "git_commit",
                "git_dirty", "torchvision_ops"):  # fmt: skip
        assert key in info
    assert info["torch"] == torch.__version__ and info["numpy"] == np.__version__
    assert info["threads"] == torch.get_num_threads()
    repo = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    if head.returncode == 0:
        assert info["git_commit"] == head.stdout.strip()
        assert isinstance(info["git_dirty"], bool)
    else:
        assert info["git_commit"] == "unknown"


def test_environment_info_outside_git(tmp_path):
    info = environment_info(repo=tmp_path)
    assert info["git_commit"] == "unknown" and info["git_dirty"] is None
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["python"])
