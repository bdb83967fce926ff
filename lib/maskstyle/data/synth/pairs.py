"""Paired samples with ground truth real photographs cannot give.

- :func:`blend_pair` - faces A and B with the same geometry (pose, contour, feature
  positions) but different identity and environment, plus ``target``: the ground truth of
  "A blended onto B". The target is B's parameters with A's :class:`Identity` (shapes and
  colours of eyes, brows, nose, lips; freckles - but B's ears, which lie outside the face
  region a blend transfers) and A's expression (smile, open mouth) and face paint
  (lipstick, makeup, facial hair); everything else is B's - skin tone, skin grain, light,
  camera, hair, background, ears, neck and cloth. So the target shows A's
  facial features with B's skin tone and lighting, as an LRNet-style blend should.
  Eyeglasses and hats (occluders, not part of the face) are removed from both.
- :func:`counterfactual_pair` - one face with and without one attribute; everything else
  is identical, so the two images differ only inside ``region`` (where the attribute's
  layers touch the image, grown by the camera blur's radius).
- :func:`lighting_series` - one face under ``n`` lights; the mask never changes.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from scipy import ndimage

from maskstyle.data.synth.params import FaceParams, as_generator, sample_params
from maskstyle.data.synth.renderer import render, render_with_support
from maskstyle.data.synth.shading import blur_radius

_FACE_OBJECTS = ("smiling", "mouth_open", "lipstick", "makeup", "beard", "mustache", "goatee")


def blend_pair(seed: int | np.random.Generator, size: int = 128) -> dict:
    """``{"a", "b", "target"}`` samples (each with its mask) for face blending."""
    rng = as_generator(seed)
    pa, pb = sample_params(rng), sample_params(rng)
    no_occluders = {"eyeglasses": False, "hat": False}
    pa = pa.replace(objects=no_occluders)
    pb = pb.replace(geometry=pa.geometry, objects=no_occluders)
    face_objects = {k: getattr(pa.objects, k) for k in _FACE_OBJECTS}
    identity = dataclasses.replace(pa.identity, ear_size=pb.identity.ear_size)
    target = pb.replace(identity=identity, objects=face_objects)
    return {"a": render(pa, size), "b": render(pb, size), "target": render(target, size)}


COUNTERFACTUALS: dict[str, tuple[str, ...]] = {
    "Eyeglasses": ("eyeglasses",),
    "Smiling": ("mouth", "lips", "beard"),
    "Mouth_Slightly_Open": ("mouth", "lips", "beard"),
    "Black_Hair": ("hair_colour",),
    "Blond_Hair": ("hair_colour",),
    "Brown_Hair": ("hair_colour",),
    "Gray_Hair": ("hair_colour",),
    "Red_Hair": ("hair_colour",),
    "Beard": ("beard",),
    "Mustache": ("mustache",),
    "Goatee": ("goatee",),
    "Wearing_Lipstick": ("lips",),
    "Heavy_Makeup": ("makeup",),
    "Wearing_Hat": ("hat",),
    "Wearing_Earrings": ("earrings",),
    "Wearing_Necklace": ("necklace",),
}
"""Counterfactual attributes -> the layer tags whose support bounds the change.

Names are CelebA's, plus ``Beard`` (CelebA's ``No_Beard`` flips) and ``Red_Hair`` (not a
CelebA column: every CelebA hair column is False for red hair).
"""

_OBJECT_FIELD = {
    "Eyeglasses": "eyeglasses",
    "Smiling": "smiling",
    "Mouth_Slightly_Open": "mouth_open",
    "Beard": "beard",
    "Mustache": "mustache",
    "Goatee": "goatee",
    "Wearing_Lipstick": "lipstick",
    "Heavy_Makeup": "makeup",
    "Wearing_Hat": "hat",
    "Wearing_Earrings": "earrings",
    "Wearing_Necklace": "necklace",
}


ALIASES: dict[str, str] = {
    "glasses": "Eyeglasses",
    "smile": "Smiling",
    "mouth_open": "Mouth_Slightly_Open",
    "lipstick": "Wearing_Lipstick",
    "makeup": "Heavy_Makeup",
    "hat": "Wearing_Hat",
    "earrings": "Wearing_Earrings",
    "necklace": "Wearing_Necklace",
    **{f"{c}_hair": f"{c.capitalize()}_Hair" for c in ("black", "blond", "brown", "gray", "red")},
    **{f"{c}": f"{c.capitalize()}_Hair" for c in ("black", "blond", "brown", "gray", "red")},
}
"""Short names accepted by :func:`counterfactual_pair` (any case) for the CelebA names."""


def canonical_attribute(name: str) -> str:
    """``"eyeglasses"``, ``"lipstick"``, ``"blond"`` ... -> the :data:`COUNTERFACTUALS` name."""
    by_lower = {k.lower(): k for k in COUNTERFACTUALS}
    key = str(name).lower()
    if key in by_lower:
        return by_lower[key]
    if key in ALIASES:
        return ALIASES[key]
    raise ValueError(
        f"no counterfactual for attribute {name!r}; valid: {', '.join(COUNTERFACTUALS)} "
        f"(or {', '.join(ALIASES)})"
    )


def _with_and_without(params: FaceParams, attribute: str) -> tuple[FaceParams, FaceParams]:
    if attribute in _OBJECT_FIELD:
        field = _OBJECT_FIELD[attribute]
        return (
            params.replace(objects={field: False}),
            params.replace(objects={field: True}),
        )
    colour = attribute.removesuffix("_Hair").lower()
    other = "brown" if colour != "brown" else "black"
    hair = {"style": "short"} if params.hair.style == "bald" else {}
    base = params.replace(hair={**hair, "colour": params.hair.colour})
    if base.hair.colour == colour:
        base = base.replace(hair={"colour": other})
    return base, base.replace(hair={"colour": colour})


def counterfactual_pair(
    seed: int | np.random.Generator, size: int = 128, attribute: str = "Eyeglasses"
) -> dict:
    """The same face without and with ``attribute`` (see :data:`COUNTERFACTUALS`).

    ``attribute`` is a CelebA name (``"Eyeglasses"``) in any case, or a short alias
    (:data:`ALIASES`: ``"lipstick"``, ``"blond"``, ``"hat"``, ...); the pair reports the
    canonical name.

    Returns ``{"without", "with", "attribute", "region"}``; ``region`` is a bool ``[H, W]``
    tensor outside which the two images and masks are equal pixel for pixel.
    """
    attribute = canonical_attribute(attribute)
    params = sample_params(seed)
    if attribute in ("Smiling", "Mouth_Slightly_Open"):  # keep the other mouth flag fixed
        params = params.replace(objects={"smiling": False, "mouth_open": False})
    p0, p1 = _with_and_without(params, attribute)
    region = np.zeros((size, size), bool)
    samples = []
    for p in (p0, p1):
        sample, support = render_with_support(p, size)
        for tag in COUNTERFACTUALS[attribute]:
            if tag in support:
                region |= support[tag]
        samples.append(sample)
    radius = blur_radius(params.environment, size)
    if radius:
        region = ndimage.maximum_filter(region, size=2 * radius + 1)
    return {
        "without": samples[0],
        "with": samples[1],
        "attribute": attribute,
        "region": torch.from_numpy(region),
    }


def lighting_series(seed: int | np.random.Generator, size: int = 128, n: int = 5) -> list[dict]:
    """One face lit from ``n`` directions sweeping from the image left to the right.

    The series uses a strong key light (intensity 0.95, ambient 0.22) so the sweep shows.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1 light, got {n}")
    params = sample_params(seed)
    params = params.replace(environment={"light_intensity": 0.95, "ambient": 0.22})
    azimuths = np.linspace(-75.0, 75.0, n) if n > 1 else np.zeros(1)
    return [
        render(params.replace(environment={"light_azimuth": float(az)}), size) for az in azimuths
    ]
