"""An attribute classifier for judging removals and transplants (beyond the paper).

A small CNN (four 3x3 convs 16/32/64/64, two of them stride 2, BN + ReLU, global max
pooling, one logit) trained on held-out face-world counterfactual pairs - every batch
holds both sides of each of its pairs, so the only difference it can learn is the
attribute. Its own held-out accuracy (on unseen
counterfactual pairs and on naturally sampled faces) is reported with every number it
makes: a removal counts as successful when the classifier says "without" (p < 0.5), a
transplant when it says "with".
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


class AttributeClassifier(nn.Module):
    """``x [B, 3, H, W] in [0, 1] -> logit [B]`` (positive = the attribute is present)."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, width, 3, 1, 1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, 2, 1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.BatchNorm2d(4 * width), nn.ReLU(),
            nn.Conv2d(4 * width, 4 * width, 3, 1, 1),
        )  # fmt: skip
        self.head = nn.Linear(4 * width, 1)
        self.width = width
        self.info: dict = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # global max pooling: a small object (eyeglasses: ~2% of the pixels) is not averaged away
        return self.head(self.net(x).amax(dim=(2, 3))).squeeze(1)

    @torch.no_grad()
    def probability(self, x: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
        """``P(attribute | x)`` in eval mode, batched."""
        was = self.training
        self.eval()
        try:
            return torch.cat([torch.sigmoid(self(x[i : i + batch_size]))
                              for i in range(0, len(x), batch_size)])  # fmt: skip
        finally:
            self.train(was)


def train_attribute_classifier(
    attribute: str = "Eyeglasses",
    size: int = 64,
    n_pairs: int = 200,
    steps: int = 300,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    n_test: int = 100,
    progress: bool = False,
    threads: int | None = 1,
) -> AttributeClassifier:
    """Train on ``n_pairs`` counterfactual pairs (role ``classifier``) and measure accuracy
    on ``n_test`` unseen pairs (role ``classifier`` of ``seed + 1``) and ``n_test`` natural
    faces (attribute as sampled); the numbers go to ``classifier.info``. ``threads``: torch
    CPU threads while training (restored after; 1 is fastest on a shared machine)."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(attribute, size, n_pairs, steps, batch_size, lr, seed, n_test, progress)
    finally:
        torch.set_num_threads(previous)


def _train(attribute, size, n_pairs, steps, batch_size, lr, seed, n_test, progress):
    from tqdm.auto import tqdm

    from maskstyle.models.genegan.data import counterfactual_set, natural_faces

    pairs = counterfactual_set(attribute, n_pairs, size, seed, role="classifier")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AttributeClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    labels = torch.cat([torch.zeros(batch_size // 2), torch.ones(batch_size // 2)])
    model.train()
    for _ in tqdm(range(steps), desc="classifier", disable=not progress):
        idx = torch.randint(0, n_pairs, (batch_size // 2,), generator=generator)
        batch = torch.cat([pairs["without"][idx], pairs["with"][idx]])  # both sides of a pair
        flip = torch.rand(len(batch), generator=generator) < 0.5  # horizontal flips
        batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
        loss = F.binary_cross_entropy_with_logits(model(batch), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    test = counterfactual_set(attribute, n_test, size, seed + 1, role="classifier")
    p_without, p_with = model.probability(test["without"]), model.probability(test["with"])
    pair_acc = 0.5 * (float((p_without < 0.5).float().mean())
                      + float((p_with >= 0.5).float().mean()))
    faces, labels = natural_faces(attribute, n_test, size, seed)
    natural_acc = float(((model.probability(faces) >= 0.5) == labels).float().mean())
    model.info = {
        "attribute": attribute, "size": size, "train_pairs": n_pairs, "steps": steps,
        "seed": seed, "final_loss": float(loss.detach()),
        "heldout_pair_accuracy": pair_acc, "natural_accuracy": natural_acc,
        "natural_positives": int(labels.sum()), "n_test": n_test,
        "accuracy": (pair_acc * 2 * n_test + natural_acc * n_test) / (3 * n_test),
    }  # fmt: skip
    return model


def classifier_path(folder: str | os.PathLike, attribute: str) -> Path:
    """Where the series keeps the classifier of ``attribute`` (``classifier_<name>.pt``)."""
    return Path(folder) / f"classifier_{attribute}.pt"


def save_classifier(model: AttributeClassifier, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state": model.state_dict(), "info": model.info, "width": model.width}, path)
    return path


def load_classifier(path: str | os.PathLike) -> AttributeClassifier:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: train one with maskstyle.models.genegan.classifier."
            "train_attribute_classifier and save_classifier (notebook 01_data does)"
        )
    stored = torch.load(path, weights_only=True)
    model = AttributeClassifier(stored["width"])
    model.load_state_dict(stored["state"])
    model.info = stored["info"]
    return model.eval()


__all__ = [
    "AttributeClassifier",
    "classifier_path",
    "load_classifier",
    "save_classifier",
    "train_attribute_classifier",
]
