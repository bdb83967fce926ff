"""CelebA's 40 binary attributes, computed from face-world parameters.

Every face carries all 40 official names (in CelebA's column order) so code written for
CelebA's ``list_attr_celeba.txt`` runs unchanged. :data:`ATTRIBUTE_SOURCES` says how each
is decided; attributes the face world does not model (age, attractiveness, ...) are always
``False`` and are listed in :data:`UNMODELLED`.
"""

from __future__ import annotations

from maskstyle.data.synth.params import FaceParams

CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip
"""The 40 CelebA attribute names in the official column order."""

UNMODELLED: tuple[str, ...] = (
    "5_o_Clock_Shadow",
    "Attractive",
    "Bags_Under_Eyes",
    "Chubby",
    "Double_Chin",
    "High_Cheekbones",
    "Sideburns",
    "Wearing_Necktie",
    "Young",
)
"""Attributes the face world has no parameter for: always ``False``."""

ATTRIBUTE_SOURCES: dict[str, str] = {
    "Arched_Eyebrows": "identity.brow_arch > 0.045",
    "Bald": "hair.style == 'bald'",
    "Bangs": "hair.bangs",
    "Big_Lips": "identity.upper_lip + identity.lower_lip > 0.115",
    "Big_Nose": "identity.nose_width > 0.135",
    "Black_Hair": "hair.colour == 'black' (not bald)",
    "Blond_Hair": "hair.colour == 'blond' (not bald)",
    "Blurry": "environment.blur > 0.003",
    "Brown_Hair": "hair.colour == 'brown' (not bald)",
    "Bushy_Eyebrows": "identity.brow_thickness > 0.045",
    "Eyeglasses": "objects.eyeglasses",
    "Goatee": "objects.goatee",
    "Gray_Hair": "hair.colour == 'gray' (not bald)",
    "Heavy_Makeup": "objects.makeup",
    "Male": "identity.male",
    "Mouth_Slightly_Open": "objects.mouth_open",
    "Mustache": "objects.mustache",
    "Narrow_Eyes": "identity.eye_height < 0.052",
    "No_Beard": "not (objects.beard or objects.goatee)",
    "Oval_Face": "geometry.jaw_taper > 0.25",
    "Pale_Skin": "environment.skin_tone < 0.15",
    "Pointy_Nose": "identity.nose_width < 0.105",
    "Receding_Hairline": "hair.hairline < -0.6 (not bald)",
    "Rosy_Cheeks": "objects.makeup (blush)",
    "Smiling": "objects.smiling",
    "Straight_Hair": "hair.waviness == 0 and style not curly/bald",
    "Wavy_Hair": "hair.waviness > 0.3 or style == 'curly'",
    "Wearing_Earrings": "objects.earrings",
    "Wearing_Hat": "objects.hat",
    "Wearing_Lipstick": "objects.lipstick",
    "Wearing_Necklace": "objects.necklace",
    **{name: "not modelled: always False" for name in UNMODELLED},
}
"""How each attribute is computed (for the data card)."""


def attributes_from_params(params: FaceParams) -> dict[str, bool]:
    """All 40 CelebA attributes of a face, in the official order."""
    idt, hair, obj = params.identity, params.hair, params.objects
    env, geo = params.environment, params.geometry
    haired = hair.style != "bald"
    values = {
        "Arched_Eyebrows": idt.brow_arch > 0.045,
        "Bald": not haired,
        "Bangs": hair.bangs,
        "Big_Lips": idt.upper_lip + idt.lower_lip > 0.115,
        "Big_Nose": idt.nose_width > 0.135,
        "Black_Hair": haired and hair.colour == "black",
        "Blond_Hair": haired and hair.colour == "blond",
        "Blurry": env.blur > 0.003,
        "Brown_Hair": haired and hair.colour == "brown",
        "Bushy_Eyebrows": idt.brow_thickness > 0.045,
        "Eyeglasses": obj.eyeglasses,
        "Goatee": obj.goatee,
        "Gray_Hair": haired and hair.colour == "gray",
        "Heavy_Makeup": obj.makeup,
        "Male": idt.male,
        "Mouth_Slightly_Open": obj.mouth_open,
        "Mustache": obj.mustache,
        "Narrow_Eyes": idt.eye_height < 0.052,
        "No_Beard": not (obj.beard or obj.goatee),
        "Oval_Face": geo.jaw_taper > 0.25,
        "Pale_Skin": env.skin_tone < 0.15,
        "Pointy_Nose": idt.nose_width < 0.105,
        "Receding_Hairline": haired and hair.hairline < -0.6,
        "Rosy_Cheeks": obj.makeup,
        "Smiling": obj.smiling,
        "Straight_Hair": haired and hair.waviness == 0 and hair.style != "curly",
        "Wavy_Hair": hair.waviness > 0.3 or hair.style == "curly",
        "Wearing_Earrings": obj.earrings,
        "Wearing_Hat": obj.hat,
        "Wearing_Lipstick": obj.lipstick,
        "Wearing_Necklace": obj.necklace,
    }
    return {name: bool(values.get(name, False)) for name in CELEBA_ATTRIBUTES}
