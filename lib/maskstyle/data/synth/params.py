"""Face-world parameters: everything a rendered face depends on, in named groups.

A face is a pure function of a :class:`FaceParams` and an image size. The parameters are
split into the groups the pairs need to hold fixed or swap:

- :class:`Geometry` - pose (yaw/pitch/roll), the head contour and where the features sit.
- :class:`Identity` - shapes and colours of eyes, brows, nose, lips, ears; freckles.
- :class:`Environment` - skin tone, skin grain, light, camera blur and noise.
- :class:`Hair` - style shape and colour name (black, blond, brown, gray, red).
- :class:`Objects` - attributes: eyeglasses, smile, open mouth, beard, mustache, goatee,
  lipstick, makeup, hat, earrings, necklace.
- :class:`Background` and :class:`Clothing` (neck and cloth).

Feature positions and shapes live on the head's *unit sphere*: a point ``(X, Y, Z)`` with
``X`` toward the person's left (image right for a frontal face), ``Y`` down and ``Z`` out of
the face. All random draws happen in :func:`sample_params`; per-pixel noise fields are drawn
from seeds stored here, so the renderer itself is deterministic. Parameters are plain
values (floats, ints, bools, strings, RGB tuples) and round-trip through
:meth:`FaceParams.to_dict` / :meth:`FaceParams.from_dict` (and JSON).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RGB = tuple[float, float, float]

HAIR_COLOURS: dict[str, RGB] = {
    "black": (0.07, 0.06, 0.06),
    "brown": (0.36, 0.22, 0.12),
    "blond": (0.86, 0.71, 0.44),
    "gray": (0.64, 0.63, 0.62),
    "red": (0.64, 0.26, 0.11),
}
"""Base albedo of each hair colour name (``Hair.tint`` scales it a little)."""

HAIR_STYLES: tuple[str, ...] = ("bald", "buzz", "short", "bob", "long", "curly")
"""Hair style shapes: ``bald`` keeps a fringe at the back, ``buzz`` is a thin crop."""

BACKGROUND_KINDS: tuple[str, ...] = ("flat", "gradient", "texture")

COLLARS: tuple[str, ...] = ("crew", "v")

_SKIN_LIGHT: RGB = (0.97, 0.80, 0.69)
_SKIN_DARK: RGB = (0.42, 0.27, 0.19)


@dataclass(frozen=True)
class Geometry:
    """Pose, head contour and feature positions (shared by the two faces of a blend pair)."""

    yaw: float = 0.0  # degrees; positive turns the face toward the image right
    pitch: float = 0.0  # degrees; positive tilts the face up
    roll: float = 0.0  # degrees; positive rotates the head clockwise on screen
    center_x: float = 0.0  # head centre in normalised image units ([-1, 1], x right)
    center_y: float = -0.06  # (y down)
    head_width: float = 0.44  # ellipsoid semi-axes in normalised image units
    head_height: float = 0.57
    head_depth: float = 0.47
    jaw_taper: float = 0.22  # 0 = ellipse; larger narrows the lower face toward the chin
    eye_y: float = -0.08  # unit-sphere Y of the eye centres
    eye_spacing: float = 0.36  # unit-sphere |X| of the eye centres
    brow_gap: float = 0.16  # brows sit this far above the eyes (unit-sphere Y)
    nose_y: float = 0.28  # nose tip
    mouth_y: float = 0.52  # lip line
    ear_y: float = 0.05  # ear centre


@dataclass(frozen=True)
class Identity:
    """Shapes and colours of the inner-face parts (what a face blend transfers)."""

    male: bool = False
    eye_width: float = 0.15
    eye_height: float = 0.065
    iris_radius: float = 0.048
    iris_colour: RGB = (0.30, 0.20, 0.12)
    gaze_x: float = 0.0  # iris offset as a fraction of eye width
    brow_length: float = 0.19
    brow_thickness: float = 0.035
    brow_arch: float = 0.04
    brow_colour: RGB = (0.20, 0.14, 0.10)
    nose_width: float = 0.11
    nose_bridge: float = 0.04
    lip_width: float = 0.22
    upper_lip: float = 0.045
    lower_lip: float = 0.06
    lip_colour: RGB = (0.72, 0.38, 0.36)
    ear_size: float = 0.16  # normalised image units (ear half-height)
    freckles: float = 0.0  # density in [0, 1]
    detail_seed: int = 0


@dataclass(frozen=True)
class Environment:
    """Skin tone, skin grain, light and camera (a blend target takes B's)."""

    skin_tone: float = 0.3  # 0 = lightest, 1 = darkest of the sampled range
    skin_rgb: RGB = (0.82, 0.64, 0.54)
    grain: float = 0.03  # skin texture grain (std of a multiplicative noise)
    grain_seed: int = 0
    light_azimuth: float = 20.0  # degrees; 0 = from the camera, positive = from image right
    light_elevation: float = 25.0  # degrees; positive = from above
    light_intensity: float = 0.75
    light_colour: RGB = (1.0, 0.97, 0.92)
    ambient: float = 0.38
    blur: float = 0.0  # Gaussian sigma as a fraction of the image size
    noise: float = 0.0  # additive camera noise std
    noise_seed: int = 0


@dataclass(frozen=True)
class Hair:
    style: str = "short"
    colour: str = "brown"
    tint: float = 1.0  # albedo scale around the colour's base
    volume: float = 0.12  # shell thickness beyond the head (fraction of head size)
    hairline: float = -0.55  # unit-sphere Y of the forehead hairline
    bangs: bool = False
    length: float = 0.9  # drape length below the head centre (head heights), long styles
    waviness: float = 0.0
    strand_seed: int = 0


@dataclass(frozen=True)
class Objects:
    """Attributes that counterfactual pairs switch one at a time."""

    eyeglasses: bool = False
    glasses_colour: RGB = (0.08, 0.08, 0.09)
    lens_tint: float = 0.12
    smiling: bool = False
    mouth_open: bool = False
    beard: bool = False
    mustache: bool = False
    goatee: bool = False
    lipstick: bool = False
    lipstick_colour: RGB = (0.72, 0.10, 0.18)
    makeup: bool = False
    makeup_colour: RGB = (0.45, 0.30, 0.50)
    hat: bool = False
    hat_colour: RGB = (0.20, 0.25, 0.45)
    earrings: bool = False
    necklace: bool = False


@dataclass(frozen=True)
class Background:
    kind: str = "gradient"
    colour_a: RGB = (0.75, 0.78, 0.82)
    colour_b: RGB = (0.45, 0.50, 0.58)
    angle: float = 90.0  # gradient direction, degrees
    texture_seed: int = 0
    texture_cells: int = 6


@dataclass(frozen=True)
class Clothing:
    neck_width: float = 0.19
    cloth_colour: RGB = (0.25, 0.35, 0.55)
    collar: str = "crew"
    shoulder_width: float = 0.95
    shoulder_y: float = 0.75  # normalised image y where the shoulders start


_GROUPS: dict[str, type] = {
    "geometry": Geometry,
    "identity": Identity,
    "environment": Environment,
    "hair": Hair,
    "objects": Objects,
    "background": Background,
    "clothing": Clothing,
}


@dataclass(frozen=True)
class FaceParams:
    """All parameter groups of one face (immutable; use :meth:`replace` to derive)."""

    geometry: Geometry = field(default_factory=Geometry)
    identity: Identity = field(default_factory=Identity)
    environment: Environment = field(default_factory=Environment)
    hair: Hair = field(default_factory=Hair)
    objects: Objects = field(default_factory=Objects)
    background: Background = field(default_factory=Background)
    clothing: Clothing = field(default_factory=Clothing)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (RGB tuples become lists so JSON round-trips exactly)."""
        out = {}
        for name in _GROUPS:
            group = getattr(self, name)
            out[name] = {
                f.name: list(v) if isinstance(v := getattr(group, f.name), tuple) else v
                for f in dataclasses.fields(group)
            }
        return out

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, Any]]) -> FaceParams:
        """Inverse of :meth:`to_dict`; unknown groups or fields raise a clear error."""
        unknown = set(data) - set(_GROUPS)
        if unknown:
            raise ValueError(f"unknown parameter groups {sorted(unknown)}; valid: {list(_GROUPS)}")
        groups = {}
        for name, group_cls in _GROUPS.items():
            values = dict(data.get(name, {}))
            names = {f.name for f in dataclasses.fields(group_cls)}
            extra = set(values) - names
            if extra:
                raise ValueError(f"unknown fields {sorted(extra)} in parameter group {name!r}")
            values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
            groups[name] = group_cls(**values)
        return cls(**groups)

    def replace(self, **groups: Any) -> FaceParams:
        """A copy with whole groups replaced, or group fields updated from a dict.

        ``p.replace(objects={"eyeglasses": True})`` or ``p.replace(identity=other.identity)``.
        """
        changes = {}
        for name, value in groups.items():
            if name not in _GROUPS:
                raise ValueError(f"unknown parameter group {name!r}; valid: {list(_GROUPS)}")
            if isinstance(value, dict):
                value = dataclasses.replace(getattr(self, name), **value)
            changes[name] = value
        return dataclasses.replace(self, **changes)


def close_up(params: FaceParams, zoom: float) -> FaceParams:
    """``params`` seen through a longer lens: the head (and with it every feature, the hair,
    hat and neck, which the renderer places relative to the head) scaled by ``zoom`` about
    its own centre, so that at ``zoom`` about 1.6 the face fills the frame as in CelebA's
    aligned crops instead of a head-and-shoulders portrait. ``zoom = 1`` returns ``params``.
    """
    if not zoom > 0:
        raise ValueError(f"zoom must be > 0 (1 = the face world's portrait framing), got {zoom}")
    if zoom == 1:
        return params
    g = params.geometry
    return params.replace(geometry={"head_width": g.head_width * zoom,
                                    "head_height": g.head_height * zoom,
                                    "head_depth": g.head_depth * zoom})  # fmt: skip


def as_generator(seed: int | np.random.Generator) -> np.random.Generator:
    """A NumPy generator from an int seed (or the generator itself)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be a non-negative int or np.random.Generator, got {seed!r}")


def _rgb(rng: np.random.Generator, base: RGB, jitter: float) -> RGB:
    c = np.clip(np.asarray(base) + rng.normal(0.0, jitter, 3), 0.0, 1.0)
    return (float(c[0]), float(c[1]), float(c[2]))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _skin_rgb(tone: float) -> RGB:
    light, dark = np.asarray(_SKIN_LIGHT), np.asarray(_SKIN_DARK)
    c = light + (dark - light) * tone
    return (float(c[0]), float(c[1]), float(c[2]))


def sample_geometry(rng: np.random.Generator) -> Geometry:
    return Geometry(
        yaw=float(rng.uniform(-28, 28)),
        pitch=float(rng.uniform(-14, 14)),
        roll=float(rng.uniform(-12, 12)),
        center_x=float(rng.uniform(-0.05, 0.05)),
        center_y=float(rng.uniform(-0.1, -0.03)),
        head_width=float(rng.uniform(0.40, 0.47)),
        head_height=float(rng.uniform(0.53, 0.60)),
        head_depth=float(rng.uniform(0.44, 0.50)),
        jaw_taper=float(rng.uniform(0.10, 0.32)),
        eye_y=float(rng.uniform(-0.13, -0.04)),
        eye_spacing=float(rng.uniform(0.32, 0.40)),
        brow_gap=float(rng.uniform(0.13, 0.19)),
        nose_y=float(rng.uniform(0.24, 0.31)),
        mouth_y=float(rng.uniform(0.48, 0.56)),
        ear_y=float(rng.uniform(0.0, 0.1)),
    )


def sample_identity(rng: np.random.Generator) -> Identity:
    male = bool(rng.random() < 0.5)
    iris = [(0.30, 0.18, 0.10), (0.15, 0.30, 0.50), (0.25, 0.38, 0.22), (0.10, 0.07, 0.05)]
    lips = (0.62, 0.34, 0.32) if male else (0.74, 0.38, 0.38)
    return Identity(
        male=male,
        eye_width=float(rng.uniform(0.12, 0.17)),
        eye_height=float(rng.uniform(0.045, 0.08)),
        iris_radius=float(rng.uniform(0.040, 0.055)),
        iris_colour=_rgb(rng, iris[int(rng.integers(len(iris)))], 0.03),
        gaze_x=float(rng.uniform(-0.2, 0.2)),
        brow_length=float(rng.uniform(0.16, 0.22)),
        brow_thickness=float(rng.uniform(0.035, 0.055) if male else rng.uniform(0.022, 0.04)),
        brow_arch=float(rng.uniform(0.0, 0.07)),
        brow_colour=_rgb(rng, (0.18, 0.12, 0.09), 0.04),
        nose_width=float(rng.uniform(0.09, 0.15)),
        nose_bridge=float(rng.uniform(0.03, 0.06)),
        lip_width=float(rng.uniform(0.19, 0.26)),
        upper_lip=float(rng.uniform(0.03, 0.055)),
        lower_lip=float(rng.uniform(0.045, 0.075)),
        lip_colour=_rgb(rng, lips, 0.04),
        ear_size=float(rng.uniform(0.13, 0.17)),
        freckles=float(rng.uniform(0.2, 1.0) if rng.random() < 0.15 else 0.0),
        detail_seed=_seed(rng),
    )


def sample_environment(rng: np.random.Generator) -> Environment:
    tone = float(rng.beta(1.6, 2.2))
    azimuth = float(rng.uniform(-70, 70))
    warm = float(rng.uniform(-0.06, 0.08))
    return Environment(
        skin_tone=tone,
        skin_rgb=_rgb(rng, _skin_rgb(tone), 0.015),
        grain=float(rng.uniform(0.01, 0.06)),
        grain_seed=_seed(rng),
        light_azimuth=azimuth,
        light_elevation=float(rng.uniform(-10, 50)),
        light_intensity=float(rng.uniform(0.55, 0.9)),
        light_colour=(1.0, float(1.0 - warm / 2), float(1.0 - warm)),
        ambient=float(rng.uniform(0.28, 0.45)),
        blur=float(rng.uniform(0.0, 0.006) if rng.random() < 0.3 else 0.0),
        noise=float(rng.uniform(0.0, 0.02)),
        noise_seed=_seed(rng),
    )


def sample_hair(rng: np.random.Generator, male: bool) -> Hair:
    styles_p = [0.08, 0.12, 0.45, 0.12, 0.13, 0.10] if male else [0.0, 0.02, 0.15, 0.28, 0.4, 0.15]
    style = HAIR_STYLES[int(rng.choice(len(HAIR_STYLES), p=styles_p))]
    colour = list(HAIR_COLOURS)[int(rng.choice(5, p=[0.32, 0.30, 0.18, 0.10, 0.10]))]
    return Hair(
        style=style,
        colour=colour,
        tint=float(rng.uniform(0.85, 1.15)),
        volume=float(rng.uniform(0.06, 0.16) if style != "curly" else rng.uniform(0.22, 0.32)),
        hairline=float(rng.uniform(-0.62, -0.48)),
        bangs=bool(style in ("short", "bob", "long") and rng.random() < 0.3),
        length=float(rng.uniform(0.9, 1.4)),
        waviness=float(rng.uniform(0.0, 1.0) if rng.random() < 0.4 else 0.0),
        strand_seed=_seed(rng),
    )


def sample_objects(rng: np.random.Generator, male: bool) -> Objects:
    smiling = bool(rng.random() < 0.45)
    facial = male and rng.random() < 0.45
    kind = int(rng.integers(3))
    return Objects(
        eyeglasses=bool(rng.random() < 0.2),
        glasses_colour=_rgb(rng, (0.10, 0.09, 0.09), 0.06),
        lens_tint=float(rng.uniform(0.05, 0.3)),
        smiling=smiling,
        mouth_open=bool(rng.random() < (0.6 if smiling else 0.2)),
        beard=bool(facial and kind == 0),
        mustache=bool(facial and kind in (0, 1)),
        goatee=bool(facial and kind == 2),
        lipstick=bool(not male and rng.random() < 0.45),
        lipstick_colour=_rgb(rng, (0.70, 0.12, 0.20), 0.06),
        makeup=bool(not male and rng.random() < 0.35),
        makeup_colour=_rgb(rng, (0.45, 0.30, 0.48), 0.08),
        hat=bool(rng.random() < 0.08),
        hat_colour=_rgb(rng, (0.3, 0.3, 0.35), 0.15),
        earrings=bool(not male and rng.random() < 0.25),
        necklace=bool(rng.random() < 0.12),
    )


def sample_background(rng: np.random.Generator) -> Background:
    return Background(
        kind=BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))],
        colour_a=_rgb(rng, (0.6, 0.6, 0.6), 0.2),
        colour_b=_rgb(rng, (0.4, 0.4, 0.4), 0.2),
        angle=float(rng.uniform(0, 360)),
        texture_seed=_seed(rng),
        texture_cells=int(rng.integers(3, 9)),
    )


def sample_clothing(rng: np.random.Generator, male: bool) -> Clothing:
    return Clothing(
        neck_width=float(rng.uniform(0.2, 0.24) if male else rng.uniform(0.17, 0.21)),
        cloth_colour=_rgb(rng, (0.4, 0.4, 0.45), 0.2),
        collar=COLLARS[int(rng.integers(len(COLLARS)))],
        shoulder_width=float(rng.uniform(0.85, 1.05)),
        shoulder_y=float(rng.uniform(0.70, 0.80)),
    )


def sample_params(seed: int | np.random.Generator) -> FaceParams:
    """Draw every parameter group from ``seed`` (an int or a ``np.random.Generator``)."""
    rng = as_generator(seed)
    geometry = sample_geometry(rng)
    identity = sample_identity(rng)
    return FaceParams(
        geometry=geometry,
        identity=identity,
        environment=sample_environment(rng),
        hair=sample_hair(rng, identity.male),
        objects=sample_objects(rng, identity.male),
        background=sample_background(rng),
        clothing=sample_clothing(rng, identity.male),
    )
