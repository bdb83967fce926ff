"""``SynthFaces``: the face world as a ``torch.utils.data.Dataset``.

Item ``i`` is drawn from ``np.random.SeedSequence([seed, i])`` alone, so it does not depend
on the access order, on other items or on the worker that renders it. Use :func:`collate`
with a ``DataLoader``: it stacks tensors and keeps ``params`` as a list of dicts and
``attrs`` as a dict of bool tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from maskstyle.data.synth.geometry import check_size
from maskstyle.data.synth.painted import PAINT_STYLES, painted_portrait
from maskstyle.data.synth.pairs import (
    COUNTERFACTUALS,
    blend_pair,
    canonical_attribute,
    counterfactual_pair,
    lighting_series,
)
from maskstyle.data.synth.renderer import render_face

KINDS: tuple[str, ...] = ("single", "blend", "counterfactual", "lighting", "painted")


def item_seed(seed: int, index: int) -> np.random.Generator:
    """The generator of item ``index`` of a set seeded ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


class SynthFaces(Dataset):
    """``n`` face-world samples of one ``kind`` at ``size`` px.

    Options: ``attribute`` (counterfactual; default cycles through
    :data:`~maskstyle.data.synth.pairs.COUNTERFACTUALS` by index), ``lights`` (lighting,
    default 4), ``style`` (painted; default cycles through the paint styles).
    """

    def __init__(
        self, n: int, size: int = 128, seed: int = 0, kind: str = "single", **options: Any
    ) -> None:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int number of samples, got {n!r}")
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
        allowed = {"counterfactual": {"attribute"}, "lighting": {"lights"}, "painted": {"style"}}
        extra = set(options) - allowed.get(kind, set())
        if extra:
            raise TypeError(f"kind {kind!r} takes no options {sorted(extra)}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if "attribute" in options:  # fail at construction, not at the first item
            options["attribute"] = canonical_attribute(options["attribute"])
        style, lights = options.get("style", "oil"), options.get("lights", 1)
        if style not in PAINT_STYLES:
            raise ValueError(f"unknown paint style {style!r}; valid: {list(PAINT_STYLES)}")
        if not isinstance(lights, int) or lights < 1:
            raise ValueError(f"lights must be a positive int, got {lights!r}")
        self.n, self.size, self.seed, self.kind = n, check_size(size), seed, kind
        self.options = options

    @property
    def provenance(self) -> dict[str, Any]:
        """What made these samples, for a result's record (JSON-serialisable)."""
        import maskstyle

        return {
            "generator": "maskstyle.data.synth",
            "version": maskstyle.__version__,
            "synthetic": True,
            "seed": self.seed,
            "size": self.size,
            "kind": self.kind,
            "n": self.n,
            **({"options": dict(self.options)} if self.options else {}),
        }

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} out of range for SynthFaces of length {self.n}")
        index = index % self.n
        rng = item_seed(self.seed, index)
        if self.kind == "single":
            return render_face(rng, self.size)
        if self.kind == "blend":
            return blend_pair(rng, self.size)
        if self.kind == "counterfactual":
            names = list(COUNTERFACTUALS)
            attribute = self.options.get("attribute", names[index % len(names)])
            return counterfactual_pair(rng, self.size, attribute)
        if self.kind == "lighting":
            return {"series": lighting_series(rng, self.size, self.options.get("lights", 4))}
        styles = list(PAINT_STYLES)
        style = self.options.get("style", styles[index % len(styles)])
        return painted_portrait(rng, self.size, style)


def collate(batch: list[Any]) -> Any:
    """``default_collate`` that keeps ``params`` (and other non-tensor dicts) as lists."""
    first = batch[0]
    if isinstance(first, dict):
        out = {}
        for key in first:
            values = [b[key] for b in batch]
            if key == "params" or isinstance(first[key], str):
                out[key] = values
            else:
                out[key] = collate(values)
        return out
    if isinstance(first, list):
        return [collate(list(items)) for items in zip(*batch)]
    if isinstance(first, torch.Tensor) or isinstance(first, (bool, int, float)):
        return default_collate(batch)
    return batch
