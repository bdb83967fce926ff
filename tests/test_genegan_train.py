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
    for variant in ("cyclic", "stacked"):  # cyclic with an EMA: no reconstruction metrics
        ema = ["--ema", "0.5"] if variant == "cyclic" else []
        summary = main(["--out", str(tmp_path / variant), "--steps", "2", "--variant", variant,
                        *common, *ema])
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


def test_weight_ema_follows_its_recursion():
    """gan.ema: theta_ema_0 = theta_0, theta_ema_t = beta theta_ema_(t-1) + (1 - beta) theta_t,
    checked against the closed form sum_k w_k theta_k; buffers are copied, not averaged."""
    from maskstyle.gan.ema import half_life, weight_ema

    beta, values = 0.9, [1.0, 3.0, -2.0, 5.0]
    model = torch.nn.BatchNorm1d(2)
    ema = weight_ema(model, beta, warmup=False)
    for v in values:
        with torch.no_grad():
            model.weight.fill_(v)
            model.running_mean.fill_(v)
        ema.update_parameters(model)
    t = len(values) - 1  # closed form: beta^t theta_0 + sum_{k>=1} (1 - beta) beta^(t-k) theta_k
    expected = beta**t * values[0] + sum((1 - beta) * beta ** (t - k) * values[k]
                                         for k in range(1, t + 1))  # fmt: skip
    assert torch.allclose(ema.module.weight, torch.full((2,), expected))
    assert torch.equal(ema.module.running_mean, torch.full((2,), values[-1]))
    assert not any(p.requires_grad for p in ema.parameters())
    assert math.isclose(half_life(0.5), 1.0) and 138 < half_life(0.995) < 139
    with pytest.raises(ValueError, match="beta must lie in"):
        weight_ema(model, 1.0)
    # warm-up: beta_t = min(beta, (1 + t) / (10 + t)), checked against the loop by hand
    ema, reference = weight_ema(model, 0.95), None
    for t, v in enumerate(values + [7.0] * 40):
        with torch.no_grad():
            model.weight.fill_(v)
        ema.update_parameters(model)
        decay = min(0.95, (1 + t) / (10 + t))
        reference = v if reference is None else decay * reference + (1 - decay) * v
    assert torch.allclose(ema.module.weight, torch.full((2,), reference))
    assert reference != 7.0  # the 40 late updates have not erased the first ones


def test_ema_run_scores_the_average_and_resumes(tmp_path):
    from maskstyle.models.genegan.classifier import AttributeClassifier, save_classifier

    clf = save_classifier(AttributeClassifier(), tmp_path / "clf.pt")
    settings = dataclasses.replace(TINY, ema=0.5)
    options = dict(classifier_path=clf, eval_every=2, eval_pairs=2, log_every=1,
                   checkpoint_every=2)  # fmt: skip
    straight = train(settings, tmp_path / "a", 4, **options)
    train(settings, tmp_path / "b", 2, **options)
    resumed = train(settings, tmp_path / "b", 4, **options)
    assert straight["final"] == resumed["final"] and "EMA" in straight["weights"]
    checkpoint = torch.load(sorted((tmp_path / "a" / "checkpoints").glob("*.pt"))[-1],
                            weights_only=False)  # fmt: skip
    averaged = {k.removeprefix("module."): v for k, v in checkpoint["models"]["ema"].items()}
    trained = checkpoint["models"]["model"]
    last = torch.load(tmp_path / "a" / "model.pt", weights_only=True)
    last_average = torch.load(tmp_path / "a" / "model_average.pt", weights_only=True)
    name = next(k for k in last if k.endswith("weight"))
    assert torch.equal(last[name], trained[name])
    assert torch.equal(last_average[name], averaged[name])
    assert not torch.equal(trained[name], averaged[name])
    for run in ("a", "b"):
        rows = pd.read_csv(tmp_path / run / "validation.csv")
        assert list(rows["step"]) == [2, 4] and {"raw_transplant_success", "raw_score"} <= set(rows)
    # best.pt holds whichever candidate scored higher at the best evaluation
    best = straight["best"]
    row = rows.set_index("step").loc[best["step"]]
    kept = torch.load(tmp_path / "b" / "best.pt", weights_only=True)
    if best["weights"] == "average":
        assert best["score"] == pytest.approx(row["score"]) and row["score"] >= row["raw_score"]
    else:
        assert best["weights"] == "trained" and best["score"] == pytest.approx(row["raw_score"])
        assert row["raw_score"] >= row["score"]
    assert best["score"] == pytest.approx(max(rows["score"].max(), rows["raw_score"].max()))
    assert set(kept) == set(last)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a" / "validation.csv"),
                                  pd.read_csv(tmp_path / "b" / "validation.csv"))
    with pytest.raises(ValueError, match="ema must lie in"):
        dataclasses.replace(TINY, ema=1.0)
