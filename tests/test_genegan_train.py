"""GeneGAN data, training, resume, settings and evaluation (tiny sizes)."""

import dataclasses
import math

import pandas as pd
import pytest
import torch

from maskstyle.models.genegan.data import (
    AttributeSets,
    TensorImages,
    celeba_sets,
    counterfactual_set,
    face_world_sets,
    write_celeba_layout,
)
from maskstyle.models.genegan.evaluate import edge_energy, evaluate_edits
from maskstyle.models.genegan.train import (
    SettingsMismatch,
    TrainSettings,
    load_trained,
    main,
    train,
)

TINY = TrainSettings(size=32, width=0.125, n_train=6, batch_size=3, gan_loss="lsgan",
                     optimizer="adam", lr=2e-4, critic="1", clip=0.0)


def test_face_world_sets_are_disjoint_and_labelled():
    sets = face_world_sets("glasses", n=3, size=32, seed=0)
    assert sets.attribute == "Eyeglasses" and len(sets.positive) == len(sets.negative) == 3
    assert not any(torch.equal(p, q) for p in sets.positive.images for q in sets.negative.images)
    pairs = counterfactual_set("Eyeglasses", n=2, size=32, seed=0)
    assert pairs["with"].shape == (2, 3, 32, 32) and pairs["region"].dtype == torch.bool
    outside = ~pairs["region"][:, None].expand(-1, 3, -1, -1)
    assert torch.equal(pairs["with"][outside], pairs["without"][outside])


def test_one_class_data_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="negative set .* is empty"):
        AttributeSets(TensorImages(torch.rand(2, 3, 8, 8)), TensorImages(torch.rand(0, 3, 8, 8)),
                      "Eyeglasses", "test")
    root = write_celeba_layout(tmp_path / "celeba", n=4, seed=0)
    sets = celeba_sets(root, "Eyeglasses", size=32)  # the paper profile's data path
    assert len(sets.positive) == 2 and len(sets.negative) == 2
    assert sets.positive[0].shape == (3, 32, 32)
    with pytest.raises(ValueError, match="positive set .* is empty"):
        celeba_sets(root, "Wearing_Necktie", size=32)  # never set in the face world


def test_resume_gives_the_same_next_losses(tmp_path):
    straight = train(TINY, tmp_path / "a", 4, log_every=1, checkpoint_every=2, eval_every=100)
    train(TINY, tmp_path / "b", 2, log_every=1, checkpoint_every=2, eval_every=100)
    resumed = train(TINY, tmp_path / "b", 4, log_every=1, checkpoint_every=2, eval_every=100)
    a = pd.read_csv(tmp_path / "a" / "history.csv").drop(columns="wall_time")
    b = pd.read_csv(tmp_path / "b" / "history.csv").drop(columns="wall_time")
    assert len(a) == len(b) == 4
    pd.testing.assert_frame_equal(a, b)
    assert straight["final"] == resumed["final"]
    with pytest.raises(SettingsMismatch, match="w_parallelogram"):
        train(dataclasses.replace(TINY, w_parallelogram=0.0), tmp_path / "b", 6)
    train(dataclasses.replace(TINY, w_parallelogram=0.0), tmp_path / "b", 1, fresh=True)
    assert len(pd.read_csv(tmp_path / "b" / "history.csv")) == 1


def test_cli_cyclic_and_stacked_with_validation(tmp_path):
    from maskstyle.models.genegan.classifier import AttributeClassifier, save_classifier

    clf = save_classifier(AttributeClassifier(), tmp_path / "clf.pt")
    common = ["--size", "32", "--width", "0.125", "--n-train", "2", "--batch-size", "2",
              "--critic", "2", "--classifier", str(clf), "--eval-every", "2",
              "--eval-pairs", "2", "--log-every", "1", "--checkpoint-every", "2"]
    for variant in ("cyclic", "stacked"):
        summary = main(["--out", str(tmp_path / variant), "--steps", "2", "--variant", variant,
                        *common])
        assert summary["best"] is not None and summary["steps"] == 2
        rows = pd.read_csv(tmp_path / variant / "validation.csv")
        assert list(rows["step"]) == [2]
        model = load_trained(tmp_path / variant)
        assert model.image_size == 32
    children = torch.load(tmp_path / "stacked" / "children.pt", weights_only=True)
    assert children[2].shape == (2, 6, 3, 32, 32)


def test_evaluate_identity_editor():
    class Identity(torch.nn.Module):
        def remove(self, x):
            return x

        def transplant(self, background, exemplar):
            return background

    class Constant(torch.nn.Module):
        def probability(self, x):
            return torch.full((len(x),), 0.9)

    test = counterfactual_set("Eyeglasses", n=3, size=32, seed=0)
    m = evaluate_edits(Identity(), Constant(), test)
    assert m["removal_region_psnr"] == pytest.approx(m["input_region_psnr"])
    assert math.isinf(m["background_psnr"]) and m["removal_success"] == 0.0
    assert m["transplant_success"] == 1.0


class _Split(torch.nn.Module):
    """A stub autoencoder: the image is the background code, the object code a gain on it
    (``Dec(A, u) = A * u``, so ``Dec(A, 0)`` is black); ``blur_away=True`` decodes every
    image to a flat grey, as a blurred autoencoder that has lost the attribute."""

    def __init__(self, blur_away: bool = False) -> None:
        super().__init__()
        self.blur_away = blur_away

    def encode(self, x):
        return x, torch.ones_like(x[:, :1])

    def decode(self, background, obj):
        out = background * obj
        return torch.full_like(out, 0.5) if self.blur_away else out


class _Bright(torch.nn.Module):
    """Calls an image "with" when it is neither black nor flat grey."""

    def probability(self, x):
        return ((x.mean((1, 2, 3)) > 0.05) & (x.std((1, 2, 3)) > 0.01)).float()


def test_reconstruction_detection_controls_removal_success():
    test = counterfactual_set("Eyeglasses", n=3, size=32, seed=0)
    sharp = evaluate_edits(_Split(), _Bright(), test)
    # the reconstruction keeps the attribute, the removal (black) loses it
    assert sharp["reconstruction_detection"] == 1.0
    assert sharp["removal_success"] == 1.0 and sharp["removal_success_detected"] == 1.0
    blurred = evaluate_edits(_Split(blur_away=True), _Bright(), test)
    # every "removal" succeeds, but so would any reconstruction: the control says so
    assert blurred["removal_success"] == 1.0
    assert blurred["reconstruction_detection"] == 0.0
    assert math.isnan(blurred["removal_success_detected"])
    # a perfect reconstruction is exactly as sharp as its input; a flat one has no edges
    assert sharp["reconstruction_edge_ratio"] == pytest.approx(1.0)
    assert blurred["reconstruction_edge_ratio"] == 0.0


def test_edge_energy_by_hand():
    x = torch.tensor([[0.0, 1.0], [0.0, 1.0]])[None, None]  # one vertical edge
    # vertical neighbours: |0-0|, |1-1| -> 0; horizontal: |1-0| twice -> 1; mean (0 + 1) / 2
    assert float(edge_energy(x)) == pytest.approx(0.5)
    noisy = torch.rand(1, 3, 16, 16)
    assert float(edge_energy(noisy)) > float(edge_energy(torch.full_like(noisy, 0.3)))


def test_linear_schedule_and_unnormalised_critics_resume(tmp_path):
    settings = dataclasses.replace(TINY, schedule="linear", decay_start=1, decay_end=3,
                                   d_norm="none")  # fmt: skip
    straight = train(settings, tmp_path / "a", 4, log_every=1, checkpoint_every=2, eval_every=100)
    train(settings, tmp_path / "b", 2, log_every=1, checkpoint_every=2, eval_every=100)
    resumed = train(settings, tmp_path / "b", 4, log_every=1, checkpoint_every=2, eval_every=100)
    assert straight["final"] == resumed["final"]
    model = load_trained(tmp_path / "b", which="last")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.d_with.modules())
    with pytest.raises(ValueError, match="decay_start < decay_end"):
        dataclasses.replace(TINY, schedule="linear", decay_start=5, decay_end=5)
