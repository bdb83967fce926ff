"""maskstyle.nn.total_variation against a loop over neighbour pairs."""

import pytest
import torch

from maskstyle.nn import total_variation


def _loop(x: torch.Tensor, p: int) -> tuple[list[float], int, int]:
    """Per-image TV_p by a loop over pixels, and the counts of vertical / horizontal pairs."""
    b, c, h, w = x.shape
    per_image = []
    for n in range(b):
        total = 0.0
        for k in range(c):
            for i in range(h):
                for j in range(w):
                    if i + 1 < h:
                        total += abs(float(x[n, k, i + 1, j] - x[n, k, i, j])) ** p
                    if j + 1 < w:
                        total += abs(float(x[n, k, i, j + 1] - x[n, k, i, j])) ** p
        per_image.append(total)
    return per_image, b * c * (h - 1) * w, b * c * h * (w - 1)


@pytest.mark.parametrize("p", [1, 2])
def test_total_variation_matches_a_loop(p):
    x = torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(p), dtype=torch.float64)
    per_image, n_vertical, n_horizontal = _loop(x, p)
    assert float(total_variation(x, p, "sum")) == pytest.approx(sum(per_image))
    assert float(total_variation(x, p, "image")) == pytest.approx(sum(per_image) / 2)
    dy = x[..., 1:, :] - x[..., :-1, :]
    vertical = sum(abs(float(v)) ** p for v in dy.flatten())
    horizontal = sum(per_image) - vertical
    expected = (vertical / n_vertical + horizontal / n_horizontal) / 2
    assert float(total_variation(x, p, "pair")) == pytest.approx(expected)


def test_total_variation_by_hand_and_bad_input():
    img = torch.tensor([[[[0.0, 1.0], [3.0, 3.0]]]])  # |1-0| + |3-3| + |3-0| + |3-1| = 6
    assert float(total_variation(img)) == 6.0
    assert float(total_variation(img, p=2)) == 1 + 0 + 9 + 4
    assert float(total_variation(torch.ones(2, 3, 4, 4), reduction="pair")) == 0.0
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        total_variation(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match="p must be"):
        total_variation(img, p=3)
    with pytest.raises(ValueError, match="reduction must be"):
        total_variation(img, reduction="mean")
