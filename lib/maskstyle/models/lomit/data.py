"""LOMIT's multi-attribute domains: the face world (with the true region of each attribute)
and CelebA (the paper's 10 attributes, Section 5.1).

A *domain* is the set of images sharing one attribute vector ``y`` over :data:`ATTRIBUTES`
(Fig. 1a). :class:`FaceWorldDomains` renders face-world faces once and keeps their images,
labels and parameters; :class:`CelebADomains` reads CelebA through
:class:`maskstyle.data.CelebA` with LOMIT's protocol (first 1,999 rows test, faces without
black/blond/brown hair dropped, centre crop 178 then resize). :class:`DomainPairs` draws
``(x1, x2)`` pairs from two DIFFERENT domains, with the paper's horizontal flip (p = 0.5).

Face-world specifics. Like LOMIT's CelebA protocol, faces whose hair is not black, blond or
brown (bald, gray, red) are skipped. The gender proxy is the face world's ``identity.male``
flag. The renderer never reads the flag itself: the sampler draws sex-linked parameters from
it - thicker brows, darker natural lips, a wider neck (:data:`MALE_TRAITS`), and, as
correlates, shorter hair styles, facial hair (only male faces get beards) and no lipstick or
makeup - a real, rendered difference, but a cruder one than in photographs. The true region
of an attribute change (:func:`translation_region`) is where the face world's painter
touched the image for that attribute's layers (:data:`REGION_TAGS`), in the input and in its
counterfactual (the input re-rendered with the exemplar's values of the attributes that
differ); for ``Male``, which is not local, it is the face (skin, brows, eyes, nose, lips)
and the neck of both renders, and every pixel the two renders draw differently (a wider neck
also moves the collar and the backdrop beside it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

ATTRIBUTES: tuple[str, ...] = (
    "Black_Hair", "Blond_Hair", "Brown_Hair", "Smiling", "Goatee", "Mustache", "No_Beard",
    "Male", "Heavy_Makeup", "Wearing_Lipstick",
)  # fmt: skip
"""The 10 CelebA attributes of LOMIT's Section 5.1, in the paper's order."""

REGION_TAGS: dict[str, tuple[str, ...]] = {
    "Black_Hair": ("hair_colour",),
    "Blond_Hair": ("hair_colour",),
    "Brown_Hair": ("hair_colour",),
    "Smiling": ("mouth", "lips"),
    "Goatee": ("goatee",),
    "Mustache": ("mustache",),
    "No_Beard": ("beard", "goatee"),
    "Male": ("face", "neck"),  # not painter tags: the face's and the neck's labels of the mask
    "Heavy_Makeup": ("makeup",),
    "Wearing_Lipstick": ("lips",),
}
"""Attribute -> the face world's painter tags whose support is the attribute's true region."""

HAIR_KEPT = ("black", "blond", "brown")
CHANGE_TOL = 1e-4
"""A pixel whose channels move less than this between two renders is unchanged."""

MALE_TRAITS: dict[str, tuple[str, ...]] = {
    "identity": ("male", "brow_thickness", "lip_colour"),
    "clothing": ("neck_width",),
}
"""The parameters the face world's sampler draws from ``identity.male`` and the renderer
draws (``params.sample_identity`` / ``sample_clothing``): what a ``Male`` counterfactual
takes from the exemplar. Hair style, facial hair, lipstick and makeup are correlates of the
flag, not part of it: they are attributes of their own or left as they are."""


def _label_tags() -> dict[str, tuple[str, ...]]:
    """The tags of :data:`REGION_TAGS` that are label-map groups, not painter tags."""
    from maskstyle.data.labels import FACE_REGIONS

    return {"face": FACE_REGIONS, "neck": ("neck",)}


def _region_labels(mask: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Pixels of the label map ``mask`` with one of the label ``names``."""
    from maskstyle.data.labels import LABEL_INDEX

    return np.isin(mask, [LABEL_INDEX[n] for n in names])


def labels_from_attrs(
    attrs: dict[str, bool], attributes: Sequence[str] = ATTRIBUTES
) -> torch.Tensor:
    """``{name: bool}`` -> float multi-hot ``[A]`` over ``attributes``."""
    missing = [a for a in attributes if a not in attrs]
    if missing:
        raise KeyError(f"attributes {missing} not in the sample's attrs; known: {sorted(attrs)}")
    return torch.tensor([float(attrs[a]) for a in attributes])


def counterfactual_params(params1, params2, attributes: Sequence[str]):
    """``params1`` with ``params2``'s values of ``attributes`` (face-world ``FaceParams``)."""
    p = params1
    for name in attributes:
        if name.endswith("_Hair"):
            p = p.replace(hair={"colour": params2.hair.colour})
        elif name == "Smiling":
            p = p.replace(objects={"smiling": params2.objects.smiling,
                                   "mouth_open": params2.objects.mouth_open})  # fmt: skip
        elif name in ("Goatee", "Mustache", "No_Beard"):
            o = params2.objects
            p = p.replace(objects={"beard": o.beard, "mustache": o.mustache, "goatee": o.goatee})
        elif name == "Male":  # the flag and what the renderer draws from it (MALE_TRAITS)
            p = p.replace(**{group: {f: getattr(getattr(params2, group), f) for f in fields}
                             for group, fields in MALE_TRAITS.items()})  # fmt: skip
        elif name == "Heavy_Makeup":
            p = p.replace(objects={"makeup": params2.objects.makeup,
                                   "makeup_colour": params2.objects.makeup_colour})  # fmt: skip
        elif name == "Wearing_Lipstick":
            p = p.replace(objects={"lipstick": params2.objects.lipstick,
                                   "lipstick_colour": params2.objects.lipstick_colour})  # fmt: skip
        else:
            raise ValueError(f"no face-world counterfactual for {name!r}; valid: {ATTRIBUTES}")
    return p


def differing_attributes(params1: dict | Any, params2: dict | Any,
                         attributes: Sequence[str] | None = None) -> tuple[Any, Any, list[str]]:
    """``(p1, p2, names)``: both faces as ``FaceParams`` and the attributes (of ``attributes``,
    default :data:`ATTRIBUTES`) in which they differ."""
    from maskstyle.data.synth.attributes import attributes_from_params
    from maskstyle.data.synth.params import FaceParams

    p1 = params1 if isinstance(params1, FaceParams) else FaceParams.from_dict(params1)
    p2 = params2 if isinstance(params2, FaceParams) else FaceParams.from_dict(params2)
    a1, a2 = attributes_from_params(p1), attributes_from_params(p2)
    return p1, p2, [a for a in (attributes or ATTRIBUTES) if a1[a] != a2[a]]


def counterfactual_image(params1: dict | Any, params2: dict | Any, size: int) -> torch.Tensor:
    """The ground-truth translation ``[3, H, W]``: face 1 re-rendered with every attribute of
    :data:`ATTRIBUTES` in which face 2 differs taken from face 2 (a perfect ``x_{1->2}``)."""
    from maskstyle.data.synth.renderer import render

    p1, p2, names = differing_attributes(params1, params2)
    return render(counterfactual_params(p1, p2, names), size)["image"]


def translation_region(
    params1: dict | Any, params2: dict | Any, size: int, attributes: Sequence[str] | None = None
) -> tuple[torch.Tensor, list[str]]:
    """The true region ``[H, W]`` (bool) of translating face 1 toward face 2, and the
    attributes (of ``attributes``, default all that differ) it covers."""
    from maskstyle.data.synth.renderer import render_with_support

    p1, p2, names = differing_attributes(params1, params2, attributes)
    region = np.zeros((size, size), bool)
    if not names:
        return torch.from_numpy(region), names
    images, label_tags = [], _label_tags()
    for p in (p1, counterfactual_params(p1, p2, names)):
        sample, support = render_with_support(p, size)
        images.append(sample["image"])
        for name in names:
            for tag in REGION_TAGS[name]:
                if tag in label_tags:
                    region |= _region_labels(sample["mask"].numpy(), label_tags[tag])
                elif tag in support:
                    region |= support[tag]
    if "Male" in names:  # a wider neck also moves the collar and the backdrop beside it
        region |= ((images[0] - images[1]).abs().amax(0) > CHANGE_TOL).numpy()
    return torch.from_numpy(region), names


BACKGROUNDS: dict[str, dict | None] = {
    "random": None,  # the face world's own: flat, gradient or texture in random colours
    "plain": {"kind": "flat", "colour_a": (0.55, 0.55, 0.55), "colour_b": (0.55, 0.55, 0.55)},
}
"""Backgrounds of :class:`FaceWorldDomains`. ``"plain"``: one flat grey behind every face, so
the largest difference between two faces is their attributes, not their backdrops (the face
world's random saturated backgrounds differ far more than CelebA's)."""


FRAMINGS: dict[str, float] = {"portrait": 1.0, "face": 1.6}
"""Framings of :class:`FaceWorldDomains`, as the zoom of
:func:`maskstyle.data.synth.params.close_up`. ``"portrait"``: the face world's own
head-and-shoulders framing, in which the face is about 28 of 64 pixels wide and the mouth
about 5. ``"face"``: the head 1.6 times larger, filling the frame as in CelebA's aligned
178-px centre crops (the paper's data), so the mouth, lips and eye make-up - the regions of
Smiling, Wearing_Lipstick and Heavy_Makeup - span about 2.5 times as many pixels (the cpu
profile keeps ``"portrait"``: notebooks/lomit/cpu.yaml has the probe with ``"face"``)."""


def check_face_world_options(background: str, framing: str) -> None:
    """A clear error for a backdrop or framing that :data:`BACKGROUNDS` or :data:`FRAMINGS`
    does not name (what :class:`FaceWorldDomains` and ``TrainConfig`` accept)."""
    for name, value, valid in (("background", background, BACKGROUNDS),
                               ("framing", framing, FRAMINGS)):  # fmt: skip
        if value not in valid:
            raise ValueError(f"{name} must be one of {sorted(valid)} (face-world {name}s, "
                             f"data.{name.upper()}S), got {value!r}")  # fmt: skip


class FaceWorldDomains(Dataset):
    """``n`` face-world faces (black, blond or brown hair) at ``size`` px, rendered once.

    Item ``i``: ``{"image" [3, H, W] in [0, 1], "label" [A], "index"}``; ``params[i]`` keeps
    the face's parameters (for true regions). Face ``i`` is the ``i``-th accepted draw of
    the seeds ``(seed, j)``, ``j = 0, 1, ...``.
    """

    def __init__(self, n: int, size: int = 64, seed: int = 0,
                 attributes: Sequence[str] = ATTRIBUTES, progress: bool = False,
                 background: str = "random", framing: str = "portrait") -> None:  # fmt: skip
        from tqdm.auto import tqdm

        from maskstyle.data.synth.dataset import item_seed
        from maskstyle.data.synth.params import close_up, sample_params
        from maskstyle.data.synth.renderer import render

        if not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an int >= 2 (pairs need two faces), got {n!r}")
        check_face_world_options(background, framing)
        self.n, self.size, self.seed, self.attributes = n, size, seed, tuple(attributes)
        self.background, self.framing = background, framing
        images, labels, self.params = [], [], []
        j = 0
        bar = tqdm(total=n, desc="rendering faces", disable=not progress)
        while len(images) < n:
            p = sample_params(item_seed(seed, j))
            j += 1
            if p.hair.style == "bald" or p.hair.colour not in HAIR_KEPT:
                continue
            if BACKGROUNDS[background] is not None:
                p = p.replace(background=BACKGROUNDS[background])
            p = close_up(p, FRAMINGS[framing])  # kept in params: regions re-render it
            sample = render(p, size)
            images.append(sample["image"])
            labels.append(labels_from_attrs(sample["attrs"], self.attributes))
            self.params.append(sample["params"])
            bar.update(1)
        bar.close()
        self.images = torch.stack(images)  # [N, 3, H, W]
        self.labels = torch.stack(labels)  # [N, A]

    @property
    def provenance(self) -> dict[str, Any]:
        zoom = FRAMINGS[self.framing]
        names = ("LOMIT's 10 (Sec. 5.1)" if self.attributes == ATTRIBUTES
                 else list(self.attributes))  # fmt: skip
        return {"dataset": "face_world", "synthetic": True, "seed": self.seed,
                "size": self.size, "n": self.n, "attributes": names,
                "hair": "black/blond/brown only",
                **({} if self.background == "random"
                   else {"background": self.background}),
                **({} if self.framing == "portrait"
                   else {"framing": f"{self.framing} (zoom {zoom:g})"})}  # fmt: skip

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        return {"image": self.images[index], "label": self.labels[index], "index": index}


class CelebADomains(Dataset):
    """CelebA with LOMIT's protocol and the 10 attributes: ``{"image", "label", "index"}``."""

    def __init__(self, root: str | Path, split: str = "train", size: int = 128,
                 crop: int = 178, attributes: Sequence[str] = ATTRIBUTES) -> None:  # fmt: skip
        from maskstyle.data.loaders.celeba import CelebA

        self.celeba = CelebA(root, split=split, protocol="lomit", crop=crop, size=size)
        missing = [a for a in attributes if a not in self.celeba.attr_names]
        if missing:
            raise KeyError(f"CelebA attribute file lacks {missing}")
        columns = [self.celeba.attr_names.index(a) for a in attributes]
        self.labels = self.celeba.attrs[:, columns].float()
        self.attributes, self.size, self.split = tuple(attributes), size, split

    @property
    def provenance(self) -> dict[str, Any]:
        return {"dataset": "celeba", "split": self.split, "protocol": "lomit",
                "size": self.size, "n": len(self), "attributes": list(self.attributes)}  # fmt: skip

    def __len__(self) -> int:
        return len(self.celeba)

    def __getitem__(self, index: int) -> dict:
        return {"image": self.celeba[index]["image"], "label": self.labels[index], "index": index}


class DomainPairs(Dataset):
    """Item ``i``: input ``x1`` = face ``i`` and an exemplar ``x2`` from another domain.

    The exemplar is drawn uniformly among faces whose label vector differs from face
    ``i``'s, from a generator seeded ``(seed, i)``, so the pair
    does not depend on the access order. ``flip``: each image is mirrored with p = 0.5
    (appendix 7.2). Returns ``{"x1", "y1", "x2", "y2", "i1", "i2"}``.
    """

    def __init__(self, faces: Dataset, seed: int = 0, flip: bool = True) -> None:
        labels = getattr(faces, "labels", None)
        if not isinstance(labels, torch.Tensor) or labels.dim() != 2:
            raise TypeError("faces must expose .labels [N, A] (FaceWorldDomains, CelebADomains)")
        self.faces, self.seed, self.flip = faces, seed, flip
        self.labels = labels.bool()
        if (self.labels == self.labels[:1]).all():
            raise ValueError(
                "every face is in the same domain (identical attribute vectors): LOMIT needs "
                "exemplars from another domain; use more faces or more attributes"
            )

    def __len__(self) -> int:
        return len(self.faces)

    def exemplar_index(self, index: int) -> int:
        g = torch.Generator().manual_seed(int(np.random.SeedSequence([self.seed, index])
                                               .generate_state(1)[0]))  # fmt: skip
        other = (self.labels != self.labels[index]).any(dim=1).nonzero().flatten()
        if other.numel() == 0:
            raise ValueError(f"face {index} has no face from another domain to pair with")
        return int(other[torch.randint(len(other), (1,), generator=g)])

    def __getitem__(self, index: int) -> dict:
        j = self.exemplar_index(index)
        a, b = self.faces[index], self.faces[j]
        x1, x2 = a["image"], b["image"]
        if self.flip:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
            flips = torch.rand(2, generator=g) < 0.5
            x1 = x1.flip(-1) if flips[0] else x1
            x2 = x2.flip(-1) if flips[1] else x2
        return {"x1": x1, "y1": a["label"], "x2": x2, "y2": b["label"], "i1": index, "i2": j}
