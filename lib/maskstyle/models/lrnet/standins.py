"""Stand-ins for FPB's StyleGAN2 and PRNet, trained on the face world at small size.

The FPB algorithm (:mod:`maskstyle.models.lrnet.fpb`) needs a differentiable generator
``G(z)`` and estimators of orientation, contour and identity. The paper uses StyleGAN2
(512-d latent) and PRNet plus a 3-layer identity head trained on CelebA; none of these
weights exist here. The stand-ins, trained in seconds on rendered face-world faces:

- **generator** - the decoder of a small convolutional autoencoder (``z`` of
  :data:`LATENT_DIM` dims -> ``size x size`` RGB); latents are drawn from a Gaussian fitted
  to the encoded training faces (:meth:`FPBStandins.sample_latents`);
- **estimator** - one small CNN with three heads: orientation (yaw, pitch, roll in
  **degrees**, as the paper), contour (the face world's 16 outline landmarks in **[0, 1]**,
  as the paper) and identity (the face world's :class:`~maskstyle.data.synth.params.Identity`
  parameters - shapes and colours of eyes, brows, nose, lips, ears, freckles - standardised:
  a "who is this" vector of :func:`identity_vector`'s length, not a 4,000-d recognition
  feature).

Because the identity vector has another scale than the paper's, Eq. 1's identity weight
and the identity stop threshold are rescaled (:func:`standin_config`): the threshold is the
median distance between the *estimated* identity vectors of two random training faces
("as different as two strangers look to the estimator"), and ``lambda_id`` keeps the
paper's balance at its threshold (``lambda_id * threshold = 0.001 * 1000 = 1``). The contour
threshold becomes the estimator's held-out contour error (the paper's 0.01 is below what
our estimator can measure). Orientation keeps the paper's units, weight and threshold.
Everything here is synthetic: no number made with these stand-ins is a paper number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from maskstyle.models.lrnet.fpb import FaceAttributes, FPBConfig

LATENT_DIM = 32
STANDIN_SIZE = 32
_EXCLUDED_IDENTITY_FIELDS = ("detail_seed",)


def identity_vector(identity: dict) -> torch.Tensor:
    """Flatten a face-world ``Identity`` dict (bools, floats, RGB tuples) into a vector."""
    values: list[float] = []
    for name in sorted(identity):
        if name in _EXCLUDED_IDENTITY_FIELDS:
            continue
        value = identity[name]
        if isinstance(value, list | tuple):
            values.extend(float(v) for v in value)
        else:
            values.append(float(value))
    return torch.tensor(values, dtype=torch.float32)


def _conv_trunk(out_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 32, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(128 * 16, out_dim),
    )


class LatentEncoder(nn.Module):
    """Image ``[B, 3, S, S]`` -> latent ``[B, LATENT_DIM]`` (only used to fit latents)."""

    def __init__(self, latent_dim: int = LATENT_DIM) -> None:
        super().__init__()
        self.net = _conv_trunk(latent_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


class LatentDecoder(nn.Module):
    """The stand-in generator ``G``: latent ``[B, LATENT_DIM]`` -> image ``[B, 3, S, S]``.

    A second head paints LRNet's 10 regions (:meth:`with_regions`), so the pairs the FPB
    algorithm makes can train LRNet (which needs region maps; the paper segments its
    generated faces, we let the generator say where its regions are).
    """

    def __init__(
        self, latent_dim: int = LATENT_DIM, size: int = STANDIN_SIZE, num_regions: int = 10
    ) -> None:
        super().__init__()
        if size % 8 or size < 16:
            raise ValueError(f"size must be a multiple of 8 and >= 16, got {size}")
        self.start = size // 8
        self.num_regions = num_regions
        self.fc = nn.Linear(latent_dim, 128 * self.start * self.start)
        layers: list[nn.Module] = []
        for c_in, c_out in ((128, 64), (64, 32), (32, 32)):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(c_out, c_out, 3, padding=1),
                nn.LeakyReLU(0.2),
            ]
        self.net = nn.Sequential(*layers)
        self.rgb = nn.Conv2d(32, 3, 3, padding=1)
        self.regions = nn.Conv2d(32, num_regions, 3, padding=1)

    def _trunk(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, 128, self.start, self.start)
        return self.net(F.leaky_relu(h, 0.2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.rgb(self._trunk(z)))

    def with_regions(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(image [B, 3, S, S], LRNet region ids [B, S, S])`` for latents ``z``."""
        h = self._trunk(z)
        return torch.sigmoid(self.rgb(h)), self.regions(h).argmax(1)


class AttributeEstimator(nn.Module):
    """The stand-in estimators: image -> :class:`FaceAttributes` (degrees, [0, 1], z-scores)."""

    def __init__(self, identity_dim: int) -> None:
        super().__init__()
        self.identity_dim = identity_dim
        self.net = _conv_trunk(3 + 32 + identity_dim)
        # target standardisation, fitted on the training set (so the heads learn z-scores)
        self.register_buffer("pose_mean", torch.zeros(3))
        self.register_buffer("pose_std", torch.ones(3))

    def forward(self, images: torch.Tensor) -> FaceAttributes:
        out = self.net(images)
        pose = out[:, :3] * self.pose_std + self.pose_mean
        contour = torch.sigmoid(out[:, 3:35]).view(-1, 16, 2)
        return FaceAttributes(pose, contour, out[:, 35:])


@dataclass
class FPBStandins:
    """Trained stand-ins plus what the FPB run needs: latent Gaussian, config, provenance.

    ``errors`` holds the held-out accuracy (:func:`standin_errors`).
    """

    generator: LatentDecoder
    encoder: LatentEncoder
    estimator: AttributeEstimator
    latent_mean: torch.Tensor
    latent_std: torch.Tensor
    config: FPBConfig
    provenance: dict
    history: list[dict[str, float]] = field(default_factory=list)
    errors: dict[str, float] = field(default_factory=dict)
    identity_mean: torch.Tensor | None = None  # standardisation of the identity vector
    identity_std: torch.Tensor | None = None

    def sample_latents(self, count: int, seed: int = 0) -> torch.Tensor:
        """``count`` latents from the Gaussian fitted to the encoded training faces."""
        g = torch.Generator().manual_seed(seed)
        return self.latent_mean + self.latent_std * torch.randn(
            count, self.latent_mean.numel(), generator=g
        )

    def initial_noise(self, count: int, seed: int = 0) -> torch.Tensor:
        """Eq. 2's starting ``n``: ``noise_std`` x the latent std x a standard normal."""
        g = torch.Generator().manual_seed(seed)
        scale = self.config.noise_std * self.latent_std
        return scale * torch.randn(count, self.latent_mean.numel(), generator=g)


def standin_config(
    identity_distance: float, contour_error: float | None = None, **overrides
) -> FPBConfig:
    """Paper's FPB config with the identity weight/threshold rescaled (module docstring).

    ``contour_error`` (the estimator's held-out contour error, an L2 over the 16 x 2
    landmarks) replaces the paper's contour threshold 0.01 when given: two contours closer
    than the estimator can measure count as the same (the paper's 0.01 is in its PRNet
    units; our estimator's own error is larger than that).
    """
    base = {"lambda_id": 1.0 / identity_distance, "stop_identity": identity_distance}
    if contour_error is not None:
        base["stop_contour"] = contour_error
    base.update(overrides)
    return FPBConfig(**base)


def _render_training_set(count: int, size: int, seed: int) -> dict[str, torch.Tensor]:
    from maskstyle.data.synth.dataset import SynthFaces
    from maskstyle.models.lrnet.regions import to_lrnet_regions

    faces = SynthFaces(count, size=size, seed=seed, kind="single")
    items = [faces[i] for i in range(count)]
    return {
        "image": torch.stack([s["image"] for s in items]),
        "regions": torch.stack([to_lrnet_regions(s["mask"]) for s in items]),
        "pose": torch.stack([s["pose"] for s in items]),
        "contour": torch.stack([s["landmarks"] for s in items]),
        "identity": torch.stack([identity_vector(s["params"]["identity"]) for s in items]),
    }


@torch.no_grad()
def standin_errors(standins: FPBStandins, data: dict[str, torch.Tensor]) -> dict[str, float]:
    """Held-out accuracy of the stand-ins on rendered faces ``data`` (their own seed).

    ``orientation_mae_deg`` (mean absolute angle error), ``contour_l2`` (mean L2 over the
    16 x 2 landmarks, Eq. 1's contour distance to the truth), ``identity_r`` (mean
    correlation of the estimated and true standardised identity vectors),
    ``identity_stranger_ratio`` (mean distance of the estimated identity vector to the true
    one / median true distance between two of these faces: below 1 means the estimator
    tells people apart),
    ``generator_psnr`` (dB, autoencoding held-out faces) and ``region_accuracy`` (pixels
    whose generated region id is right).
    """
    from maskstyle.metrics import psnr

    est = standins.estimator
    attrs = torch.cat([est(c).orientation for c in data["image"].split(128)])
    contour = torch.cat([est(c).contour for c in data["image"].split(128)])
    ident = torch.cat([est(c).identity for c in data["image"].split(128)])
    truth_id = (data["identity"] - standins.identity_mean) / standins.identity_std
    r = F.cosine_similarity(ident - ident.mean(1, keepdim=True),
                            truth_id - truth_id.mean(1, keepdim=True), dim=1)  # fmt: skip
    latents = torch.cat([standins.encoder(c) for c in data["image"].split(128)])
    recon, regions = zip(*(standins.generator.with_regions(c) for c in latents.split(128)))
    recon, regions = torch.cat(recon), torch.cat(regions)
    return {
        "orientation_mae_deg": float((attrs - data["pose"]).abs().mean()),
        "contour_l2": float((contour - data["contour"]).flatten(1).norm(dim=1).mean()),
        "identity_r": float(r.mean()),
        "identity_stranger_ratio": float(
            (ident - truth_id).norm(dim=1).mean()
            / (truth_id - truth_id.roll(1, 0)).norm(dim=1).median()
        ),
        "generator_psnr": float(psnr(recon, data["image"])),
        "region_accuracy": float((regions == data["regions"]).float().mean()),
        "held_out_faces": len(data["image"]),
    }


def train_fpb_standins(
    count: int = 512,
    size: int = STANDIN_SIZE,
    steps: int = 400,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    log_every: int = 25,
    eval_count: int = 64,
    progress: bool = False,
) -> FPBStandins:
    """Render ``count`` face-world faces at ``size`` px and train the stand-ins (Adam).

    Autoencoder: MSE reconstruction + cross-entropy of the region head. Estimator: MSE on
    standardised pose, contour and identity. Deterministic for a given ``seed``. ``history``
    holds the losses every ``log_every`` steps; ``errors`` the accuracy on ``eval_count``
    held-out faces (rendered with seed ``seed + 1``).
    """
    from tqdm.auto import tqdm

    data = _render_training_set(count, size, seed)
    id_mean, id_std = data["identity"].mean(0), data["identity"].std(0).clamp_min(1e-6)
    identity = (data["identity"] - id_mean) / id_std
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder, generator = LatentEncoder(), LatentDecoder(size=size)
        estimator = AttributeEstimator(identity.shape[1])
    estimator.pose_mean.copy_(data["pose"].mean(0))
    estimator.pose_std.copy_(data["pose"].std(0).clamp_min(1e-3))
    params = [*encoder.parameters(), *generator.parameters(), *estimator.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    g = torch.Generator().manual_seed(seed)
    history = []
    for step in tqdm(range(1, steps + 1), desc="FPB stand-ins", disable=not progress):
        idx = torch.randint(0, count, (batch_size,), generator=g)
        images = data["image"][idx]
        out = generator._trunk(encoder(images))
        logits = generator.regions(out)
        recon = F.mse_loss(torch.sigmoid(generator.rgb(out)), images)
        seg = F.cross_entropy(logits, data["regions"][idx]) * 0.01
        attrs = estimator(images)
        pose = F.mse_loss(
            (attrs.orientation - estimator.pose_mean) / estimator.pose_std,
            (data["pose"][idx] - estimator.pose_mean) / estimator.pose_std,
        )
        contour = F.mse_loss(attrs.contour, data["contour"][idx]) * 100
        ident = F.mse_loss(attrs.identity, identity[idx])
        loss = recon + seg + pose + contour + ident
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % log_every == 0 or step == steps:
            history.append(
                {"step": step, "recon": recon.item(), "regions": seg.item(), "pose": pose.item(),
                 "contour": contour.item(), "identity": ident.item()}
            )  # fmt: skip
    for module in (encoder, generator, estimator):
        module.eval().requires_grad_(False)
    with torch.no_grad():
        latents = torch.cat([encoder(chunk) for chunk in data["image"].split(128)])
        # "two strangers" as the estimator sees them: its identity vectors of random pairs
        # of training faces (the estimator regresses toward the mean, so its vectors spread
        # less than the true parameters; Eq. 1 compares estimated vectors)
        estimated = torch.cat([estimator(chunk).identity for chunk in data["image"].split(128)])
        pairs = torch.randperm(count, generator=g)
        id_dist = (estimated - estimated[pairs]).norm(dim=1)
        id_dist = float(id_dist[pairs != torch.arange(count)].median())
    standins = FPBStandins(
        generator=generator,
        encoder=encoder,
        estimator=estimator,
        latent_mean=latents.mean(0),
        latent_std=latents.std(0),
        config=standin_config(id_dist),
        provenance={
            "data": f"face world single faces (maskstyle.data.synth), {count} at {size} px, "
            f"seed {seed}",
            "weights": f"stand-ins trained here: {steps} Adam steps (lr {lr}, batch "
            f"{batch_size}), seed {seed} - not StyleGAN2 / PRNet",
            "identity_distance": id_dist,
        },
        history=history,
        identity_mean=id_mean,
        identity_std=id_std,
    )
    if eval_count > 0:
        standins.errors = standin_errors(standins, _render_training_set(eval_count, size, seed + 1))
        standins.config = standin_config(id_dist, standins.errors["contour_l2"])
    return standins
