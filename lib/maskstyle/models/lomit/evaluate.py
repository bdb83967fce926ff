"""Evaluating LOMIT on the face world: Table 1's classification accuracy, and what the paper
could only ask users about - where the masks land and how much background survives.

- :class:`AttributeClassifier` - a small CNN trained on face-world faces for the 10
  attributes (the face world's stand-in for the paper's CelebA-fine-tuned Inception-v3);
  :func:`classifier_accuracy` is its mean per-attribute accuracy on held-out faces.
- :func:`critic_attribute_accuracy` - the same per-attribute accuracy for the critic's class
  head ``D_cls`` (Eq. 11) beside each attribute's majority rate: Eq. 12 teaches G an
  attribute only through ``D_cls``, so an attribute it cannot tell on real faces (accuracy at
  the majority rate) gives G no signal to draw it.
- :func:`evaluation_pairs` - for each Table 1 class (:data:`CLASSES`), pairs of held-out
  faces whose exemplar differs from the input in that class's attributes.
- :func:`reference_accuracy` - what CA gives where the answer is known, with the same
  classifier and pairs: the unchanged input (the floor), the exemplar itself, and the face
  world's ground-truth translation (face 1 re-rendered with face 2's differing attributes:
  what a perfect translator would output, so the ceiling of CA with this classifier).
- :func:`rendering_ceiling` - CA of those ground-truth translations after the model's own
  reconstruction ``decode(encode(x))``: what a perfect translator rendered by this generator
  would score. A model whose CA sits at this ceiling translates as well as it can draw.
- :func:`translation_metrics` - per class, the fraction of translations ``x_{1->2}`` whose
  predicted class attributes equal the exemplar's (``translation_accuracy`` averages the
  classes); ``mask_iou``: the input mask thresholded at 0.5 against the true region of all
  differing attributes (:func:`maskstyle.models.lomit.data.translation_region`);
  ``background_l1``: the mean absolute change of ``x_{1->2}`` against ``x1`` outside that
  region (0 = the background is untouched).

The inception score is not computed: the bundled TF-Inception port
(:mod:`maskstyle.metrics.frechet`) ends at the 2048-d pool features and lacks the 1008-way
softmax that IS needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.models.lomit.data import ATTRIBUTES, counterfactual_image, translation_region

CLASSES: dict[str, tuple[str, ...]] = {
    "Hair Colour": ("Black_Hair", "Blond_Hair", "Brown_Hair"),
    "Smiling": ("Smiling",),
    "Facial Hair": ("Goatee", "Mustache", "No_Beard"),
    "Gender": ("Male",),
    "Wearing Lipstick": ("Wearing_Lipstick",),
    "Facial Hair + Gender": ("Goatee", "Mustache", "No_Beard", "Male"),
    "Makeup + Wearing Lipstick": ("Heavy_Makeup", "Wearing_Lipstick"),
}
"""Table 1's classes (the last five) plus hair colour and smiling; ``Facial Hair`` is any of
Goatee, Mustache or a beard (``No_Beard`` false), as the paper defines it."""

UNKNOWN_CLASS = "unknown class {!r}; valid: {}"


class AttributeClassifier(nn.Module):
    """Four 3x3 stride-2 conv + BN + LeakyReLU blocks, global pooling, a linear layer to
    one logit per attribute."""

    def __init__(self, num_attributes: int = len(ATTRIBUTES), width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for i in range(4):
            cout = width * 2 ** min(i, 2)
            layers += [nn.Conv2d(cin, cout, 3, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(cin, num_attributes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(2 * x - 1))  # [B, A] logits


def train_classifier(
    images: torch.Tensor, labels: torch.Tensor, steps: int, batch_size: int = 32,
    lr: float = 1e-3, width: int = 32, seed: int = 0, progress: bool = True,
) -> tuple[AttributeClassifier, list[float]]:  # fmt: skip
    """Adam on BCE over the attributes, with horizontal flips; returns the model and losses."""
    from tqdm.auto import tqdm

    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} label rows")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = AttributeClassifier(labels.shape[1], width)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(steps), desc="classifier", disable=not progress):
        idx = torch.randint(images.shape[0], (batch_size,), generator=g)
        x, y = images[idx], labels[idx]
        flip = torch.rand(batch_size, generator=g) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model.eval(), losses


@torch.no_grad()
def predict(classifier: nn.Module, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Bool ``[N, A]`` predictions (logit > 0)."""
    classifier.eval()
    return torch.cat([classifier(images[i:i + batch_size]) > 0
                      for i in range(0, images.shape[0], batch_size)])  # fmt: skip


def class_hits(classifier: nn.Module, images: torch.Tensor, cols: Sequence[int],
               target: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Bool ``[N]``: whether all predicted attributes ``cols`` of each image equal ``target``."""
    return (predict(classifier, images)[:, cols] == target).all(dim=1)


def classifier_accuracy(
    classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor,
    attributes: Sequence[str] = ATTRIBUTES,
) -> tuple[float, dict[str, float]]:  # fmt: skip
    """Mean per-attribute accuracy on held-out faces, and the accuracy of each attribute."""
    hits = (predict(classifier, images) == labels.bool()).float().mean(dim=0)
    per = {a: float(v) for a, v in zip(attributes, hits)}
    return float(hits.mean()), per


class CriticClassHead(nn.Module):
    """``x -> D_cls(x)`` logits ``[B, A]`` of a LOMIT critic ``D(x) -> (D_src, D_cls)``."""

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x)[1]


def critic_attribute_accuracy(
    discriminator: nn.Module, images: torch.Tensor, labels: torch.Tensor,
    attributes: Sequence[str] = ATTRIBUTES,
) -> dict[str, dict[str, float]]:  # fmt: skip
    """Per attribute: the critic's class head's accuracy on real faces (logit > 0, Eq. 11's
    reading) and the majority rate ``max(p, 1 - p)`` of the attribute in ``labels`` (what
    always answering the commoner value scores)."""
    if labels.shape != (images.shape[0], len(attributes)):
        raise ValueError(
            f"labels {tuple(labels.shape)} must be [N, {len(attributes)}] for {images.shape[0]} "
            "images, one column per attribute"
        )
    _, per = classifier_accuracy(CriticClassHead(discriminator), images, labels, attributes)
    rate = labels.float().mean(dim=0)
    majority = torch.maximum(rate, 1 - rate)
    return {a: {"accuracy": per[a], "majority_rate": float(m)}
            for a, m in zip(attributes, majority)}  # fmt: skip


def evaluation_pairs(
    labels: torch.Tensor, pairs_per_class: int, seed: int = 0,
    classes: Mapping[str, Sequence[str]] = CLASSES, attributes: Sequence[str] = ATTRIBUTES,
) -> dict[str, list[tuple[int, int]]]:  # fmt: skip
    """Per class, ``(input, exemplar)`` index pairs whose class attributes differ."""
    g = torch.Generator().manual_seed(seed)
    labels = labels.bool()
    out: dict[str, list[tuple[int, int]]] = {}
    for name, attrs in classes.items():
        cols = [attributes.index(a) for a in attrs]
        inputs = torch.randperm(labels.shape[0], generator=g).tolist()
        chosen: list[tuple[int, int]] = []
        for i in inputs:
            other = (labels[:, cols] != labels[i, cols]).any(dim=1).nonzero().flatten()
            if other.numel():
                chosen.append((i, int(other[torch.randint(len(other), (1,), generator=g)])))
            if len(chosen) == pairs_per_class:
                break
        out[name] = chosen
    return out


@torch.no_grad()
def translate_indices(model, images: torch.Tensor, pairs: Sequence[tuple[int, int]],
                      batch_size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """``(x_{1->2}, input masks)`` for index pairs into ``images``."""
    outputs, masks = [], []
    for k in range(0, len(pairs), batch_size):
        chunk = pairs[k:k + batch_size]
        x1 = images[[i for i, _ in chunk]]
        x2 = images[[j for _, j in chunk]]
        result = model.translate(x1, x2)
        outputs.append(result["output"])
        masks.append(result["mask1"])
    return torch.cat(outputs), torch.cat(masks)


def mask_iou(mask: torch.Tensor, region: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """IoU per image of ``mask [N, 1, H, W] > threshold`` and bool ``region [N, H, W]``
    (1 where both are empty)."""
    pred = mask[:, 0] > threshold
    inter = (pred & region).flatten(1).sum(1).float()
    union = (pred | region).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def mask_mean_in_out(mask: torch.Tensor, region: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inside, outside)`` per image: the mean of ``mask [N, 1, H, W]`` over the pixels of bool
    ``region [N, H, W]`` and over the rest (NaN where a side has no pixels). Threshold-free: a
    mask that localises the attributes has ``inside`` well above ``outside``."""
    if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[-2:] != region.shape[-2:]:
        raise ValueError(f"mask {tuple(mask.shape)} must be [N, 1, H, W] at the size of region "
                         f"{tuple(region.shape)}")
    m, r = mask[:, 0].flatten(1), region.flatten(1).to(mask.dtype)
    inside = (m * r).sum(1) / r.sum(1)
    outside = (m * (1 - r)).sum(1) / (1 - r).sum(1)
    return inside, outside


def background_change(output: torch.Tensor, image: torch.Tensor,
                      region: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Mean ``|output - image|`` per image over pixels outside ``region`` (and channels)."""
    outside = (~region).float()[:, None]  # [N, 1, H, W]
    diff = (output - image).abs() * outside
    return diff.flatten(1).sum(1) / (3 * outside.flatten(1).sum(1)).clamp(min=1)


def _scored_classes(
    pairs: Mapping[str, Sequence[tuple[int, int]]], labels: torch.Tensor,
    attributes: Sequence[str], classes: Mapping[str, Sequence[str]],
):  # fmt: skip
    """Per class with pairs: ``(name, class_pairs, cols, target)``, ``cols`` the class's
    attribute columns and ``target`` bool ``[n, len(cols)]`` the exemplars' values there."""
    for name, class_pairs in pairs.items():
        if name not in classes:
            raise KeyError(UNKNOWN_CLASS.format(name, list(classes)))
        if not class_pairs:
            continue
        cols = [attributes.index(a) for a in classes[name]]
        yield name, class_pairs, cols, labels[[j for _, j in class_pairs]][:, cols].bool()


@torch.no_grad()
def reference_accuracy(
    classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor, params: Sequence[dict],
    pairs: Mapping[str, Sequence[tuple[int, int]]], attributes: Sequence[str] = ATTRIBUTES,
    classes: Mapping[str, Sequence[str]] = CLASSES,
) -> dict[str, dict[str, float]]:  # fmt: skip
    """Per reference (``"input"``, ``"exemplar"``, ``"ground_truth"``), CA per class and its
    mean over classes (``"mean"``), scored exactly as :func:`translation_metrics` scores a
    translation: all of the class's predicted attributes must equal the exemplar's."""
    size = images.shape[-1]
    out: dict[str, dict[str, float]] = {"input": {}, "exemplar": {}, "ground_truth": {}}
    for name, class_pairs, cols, target in _scored_classes(pairs, labels, attributes, classes):
        truth = torch.stack([counterfactual_image(params[i], params[j], size)
                             for i, j in class_pairs])  # fmt: skip
        shown = {"input": images[[i for i, _ in class_pairs]],
                 "exemplar": images[[j for _, j in class_pairs]], "ground_truth": truth}
        for ref, batch in shown.items():
            out[ref][name] = float(class_hits(classifier, batch, cols, target).float().mean())
    for ref in out:
        if not out[ref]:
            raise ValueError("no evaluation pairs: give pairs_per_class >= 1 and varied faces")
        out[ref]["mean"] = sum(out[ref].values()) / len(out[ref])
    return out


@torch.no_grad()
def rendering_ceiling(
    model, classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor,
    params: Sequence[dict], pairs: Mapping[str, Sequence[tuple[int, int]]],
    attributes: Sequence[str] = ATTRIBUTES, classes: Mapping[str, Sequence[str]] = CLASSES,
    batch_size: int = 16,
) -> dict[str, float]:  # fmt: skip
    """CA per class (and ``"mean"``) of the ground-truth translations redrawn by ``model``.

    Each pair's ground truth ``t`` (face 1 with face 2's class attributes,
    :func:`maskstyle.models.lomit.data.counterfactual_image`) is encoded with the exemplar as
    its co-segmentation partner and decoded with its own content, mask and styles (Eq. 9's
    ``x11`` for ``x1 = t``), then scored as :func:`translation_metrics` scores a translation.
    It separates two failures that CA alone mixes: a generator that cannot draw the
    attributes at all (a low ceiling) and one that draws them but does not transfer them (CA
    well below its ceiling). ``"l1"`` holds the mean ``|redrawn - t|``."""
    size = images.shape[-1]
    out: dict[str, float] = {}
    errors = []
    for name, class_pairs, cols, target in _scored_classes(pairs, labels, attributes, classes):
        redrawn = []
        for k in range(0, len(class_pairs), batch_size):
            chunk = class_pairs[k:k + batch_size]
            truth = torch.stack([counterfactual_image(params[i], params[j], size)
                                 for i, j in chunk])  # fmt: skip
            e, _ = model.encode_pair(truth, images[[j for _, j in chunk]])
            redrawn.append(model.decode(e.content, e.mask, e.style_f, e.style_b))
            errors.append((redrawn[-1] - truth).abs().flatten(1).mean(1))
        out[name] = float(class_hits(classifier, torch.cat(redrawn), cols, target).float().mean())
    if not out:
        raise ValueError("no evaluation pairs: give pairs_per_class >= 1 and varied faces")
    out["mean"] = sum(out.values()) / len(out)
    out["l1"] = float(torch.cat(errors).mean())
    return out


def translation_metrics(
    model, classifier: nn.Module | None, images: torch.Tensor, labels: torch.Tensor,
    params: Sequence[dict], pairs: Mapping[str, Sequence[tuple[int, int]]],
    attributes: Sequence[str] = ATTRIBUTES, classes: Mapping[str, Sequence[str]] = CLASSES,
) -> dict:  # fmt: skip
    """Per-class and overall ``translation_accuracy``, ``mask_iou``, ``background_l1`` and the
    input masks' mean inside / outside the true regions (``mask_inside``, ``mask_outside``;
    ``classifier=None``: no accuracy, only the region metrics)."""
    size = images.shape[-1]
    per_class: dict[str, dict[str, float]] = {}
    all_iou, all_bg, all_in, all_out = [], [], [], []
    for name, class_pairs, cols, target in _scored_classes(pairs, labels, attributes, classes):
        outputs, masks = translate_indices(model, images, class_pairs)
        accuracy = float("nan")
        if classifier is not None:
            accuracy = float(class_hits(classifier, outputs, cols, target).float().mean())
        regions = torch.stack([translation_region(params[i], params[j], size)[0]
                               for i, j in class_pairs])  # fmt: skip
        x1 = images[[i for i, _ in class_pairs]]
        iou = mask_iou(masks, regions)
        bg = background_change(outputs, x1, regions)
        inside, outside = mask_mean_in_out(masks, regions)
        all_iou.append(iou)
        all_bg.append(bg)
        all_in.append(inside)
        all_out.append(outside)
        per_class[name] = {"accuracy": accuracy, "mask_iou": float(iou.mean()),
                           "background_l1": float(bg.mean()),
                           "mask_inside": float(inside.nanmean()),
                           "mask_outside": float(outside.nanmean()), "pairs": len(class_pairs)}
    if not per_class:
        raise ValueError("no evaluation pairs: give pairs_per_class >= 1 and varied faces")
    accuracies = [v["accuracy"] for v in per_class.values()]
    return {
        "translation_accuracy": sum(accuracies) / len(accuracies),
        "mask_iou": float(torch.cat(all_iou).mean()),
        "background_l1": float(torch.cat(all_bg).mean()),
        "mask_inside": float(torch.cat(all_in).nanmean()),
        "mask_outside": float(torch.cat(all_out).nanmean()),
        "per_class": per_class,
    }
