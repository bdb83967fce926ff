"""LOMIT data (domains, pairs, true regions, CelebA), training resume and evaluation."""

import numpy as np
import pytest
import torch
from PIL import Image

from maskstyle.models.lomit import data as D
from maskstyle.models.lomit import evaluate as E
from maskstyle.models.lomit.train import TrainConfig, load_trained, train_lomit

TINY = TrainConfig(image_size=32, dim=4, n_res=1, mlp_dim=8, mask_dim=4, d_dim=4, d_layers=4,
                   faces=12, batch_size=2, g_every=2, profile="test")


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def faces():
    return D.FaceWorldDomains(12, 32, seed=0)


def test_face_world_domains_and_pairs(faces):
    assert faces.images.shape == (12, 3, 32, 32) and faces.labels.shape == (12, 10)
    hair = faces.labels[:, :3]
    assert torch.all(hair.sum(1) == 1)  # exactly one of black/blond/brown (LOMIT's filter)
    pairs = D.DomainPairs(faces, seed=3)
    for i in range(len(pairs)):
        item = pairs[i]
        assert not torch.equal(item["y1"], item["y2"])  # exemplar from another domain
        assert pairs[i]["i2"] == item["i2"]  # deterministic
    same = D.FaceWorldDomains(12, 32, seed=0)
    torch.testing.assert_close(same.images, faces.images)


def test_single_domain_refused():
    class One(torch.utils.data.Dataset):
        labels = torch.ones(3, 2)

        def __len__(self):
            return 3

    with pytest.raises(ValueError, match="same domain"):
        D.DomainPairs(One())


def test_translation_region_bounds_the_counterfactual_change():
    from maskstyle.data.synth.params import sample_params
    from maskstyle.data.synth.renderer import render

    p1 = sample_params(1).replace(hair={"style": "short", "colour": "black"},
                                  objects={"smiling": False, "mouth_open": False})
    p2 = p1.replace(hair={"colour": "blond"}, objects={"smiling": True})
    region, names = D.translation_region(p1, p2, 32)
    assert set(names) == {"Black_Hair", "Blond_Hair", "Smiling"}
    cf = D.counterfactual_params(p1, p2, names)
    a, b = render(p1, 32)["image"], render(cf, 32)["image"]
    changed = (a - b).abs().amax(0) > 0
    assert changed.any() and not (changed & ~region).any()  # every change lies in the region
    assert region.float().mean() < 0.6  # local: not the whole image


def test_male_counterfactual_changes_the_rendered_face_within_its_region():
    """The renderer never reads ``identity.male``: a Male counterfactual must take the traits
    drawn from it (MALE_TRAITS), so the ground-truth translation differs from the input."""
    from maskstyle.data.synth.params import sample_params
    from maskstyle.data.synth.renderer import render

    base = sample_params(3)
    p1 = base.replace(identity={"male": False, "brow_thickness": 0.025,
                                "lip_colour": (0.74, 0.38, 0.38)},
                      clothing={"neck_width": 0.18})
    p2 = base.replace(identity={"male": True, "brow_thickness": 0.05,
                                "lip_colour": (0.62, 0.34, 0.32)},
                      clothing={"neck_width": 0.23})
    region, names = D.translation_region(p1, p2, 64)
    assert names == ["Male"]
    cf = D.counterfactual_params(p1, p2, names)
    assert cf.identity.male and cf.identity.brow_thickness == 0.05
    assert cf.clothing.neck_width == 0.23 and cf.hair == p1.hair  # correlates stay
    a, b = render(p1, 64)["image"], render(cf, 64)["image"]
    changed = (a - b).abs().amax(0) > D.CHANGE_TOL
    assert changed.sum() > 20  # brows, lips and neck are redrawn
    assert not (changed & ~region).any()
    assert region.float().mean() < 0.6  # the face and neck, not the whole image


def fake_celeba(root, n=4):
    """A CelebA layout: ``n`` random 178 x 218 photos, hair colour by index, smiling from 3."""
    from maskstyle.data.synth.attributes import CELEBA_ATTRIBUTES as names

    (root / "img_align_celeba").mkdir(parents=True)
    rows, rng = [], np.random.default_rng(0)
    for k in range(1, n + 1):
        name = f"{k:06d}.jpg"
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(
            root / "img_align_celeba" / name)
        values = ["-1"] * 40
        values[names.index("Black_Hair" if k % 2 else "Blond_Hair")] = "1"
        values[names.index("Smiling")] = "1" if k > 2 else "-1"
        rows.append(f"{name} " + " ".join(values))
    (root / "list_attr_celeba.txt").write_text(f"{n}\n" + " ".join(names) + "\n"
                                               + "\n".join(rows))
    return root


def test_celeba_domains_on_fake_layout(tmp_path):
    fake_celeba(tmp_path)
    ds = D.CelebADomains(tmp_path, split="test", size=32)  # first 1,999 rows: all 4 here
    assert len(ds) == 4 and ds.labels.shape == (4, 10)
    item = ds[2]
    assert item["image"].shape == (3, 32, 32) and item["label"][0] == 1 and item["label"][3] == 1
    pair = D.DomainPairs(ds, seed=0)[0]
    assert not torch.equal(pair["y1"], pair["y2"])


def test_resume_gives_the_same_next_losses(tmp_path, faces):
    _, _, straight = train_lomit(TINY, 4, tmp_path / "a", log_every=1, checkpoint_every=2,
                                 progress=False, faces=faces)
    train_lomit(TINY, 2, tmp_path / "b", log_every=1, checkpoint_every=2, progress=False,
                faces=faces)
    _, _, resumed = train_lomit(TINY, 4, tmp_path / "b", log_every=1, checkpoint_every=2,
                                progress=False, faces=faces)
    a, b = straight.to_frame(), resumed.to_frame()
    terms = [c for c in a.columns if c != "wall_time"]
    assert list(b["step"]) == [1, 2, 3, 4] and "g_total" in b.columns
    np.testing.assert_allclose(a[terms].to_numpy(), b[terms].to_numpy(), rtol=1e-5)
    model, config, step = load_trained(tmp_path / "b", expected=TINY.settings())
    assert step == 4 and config == TINY and model.config.image_size == 32


def test_other_settings_refused(tmp_path, faces):
    from maskstyle.train import SettingsMismatch

    train_lomit(TINY, 1, tmp_path, progress=False, faces=faces)
    other = TrainConfig(**{**TINY.__dict__, "w_r1": 0.0})
    with pytest.raises(SettingsMismatch, match="w_r1"):
        train_lomit(other, 2, tmp_path, progress=False, faces=faces)
    train_lomit(other, 1, tmp_path, progress=False, faces=faces, fresh=True)


def test_metrics_by_hand_and_on_a_model(faces):
    mask = torch.zeros(1, 1, 2, 2)
    mask[0, 0, 0] = 1.0
    region = torch.tensor([[[True, False], [True, False]]])
    assert float(E.mask_iou(mask, region)) == pytest.approx(1 / 3)
    out, img = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
    out[..., 0] = 0.0  # column 0 (the region) changed nothing; column 1 changed by 1
    assert float(E.background_change(out, img, region)) == pytest.approx(1.0)
    clf, losses = E.train_classifier(faces.images, faces.labels, steps=3, batch_size=4, width=4,
                                     progress=False)
    acc, per = E.classifier_accuracy(clf, faces.images, faces.labels)
    assert 0 <= acc <= 1 and set(per) == set(D.ATTRIBUTES)
    pairs = E.evaluation_pairs(faces.labels, 2, seed=0)
    for name, items in pairs.items():
        cols = [D.ATTRIBUTES.index(a) for a in E.CLASSES[name]]
        for i, j in items:
            assert not torch.equal(faces.labels[i, cols], faces.labels[j, cols])
    from maskstyle.models.lomit.model import LOMIT

    model = LOMIT(TINY.model_config()).eval()
    metrics = E.translation_metrics(model, clf, faces.images, faces.labels, faces.params, pairs)
    assert 0 <= metrics["translation_accuracy"] <= 1 and 0 <= metrics["mask_iou"] <= 1
    assert metrics["background_l1"] > 0
    assert 0 <= metrics["mask_outside"] <= 1 and 0 <= metrics["mask_inside"] <= 1


def test_mask_mean_in_out_against_hand_made_masks():
    region = torch.zeros(2, 4, 4, dtype=torch.bool)
    region[:, :2] = True  # top half
    exact = region[:, None].float()  # the mask is the region
    inside, outside = E.mask_mean_in_out(exact, region)
    assert inside.tolist() == [1.0, 1.0] and outside.tolist() == [0.0, 0.0]
    flat = torch.full((2, 1, 4, 4), 0.3)  # a flat mask does not localise: equal means
    inside, outside = E.mask_mean_in_out(flat, region)
    assert torch.allclose(inside, outside) and torch.allclose(inside, torch.tensor(0.3))
    graded = torch.arange(16.0).view(1, 1, 4, 4).expand(2, 1, 4, 4) / 15
    inside, _ = E.mask_mean_in_out(graded, region)  # brute force: mean of rows 0-1
    assert inside[0] == pytest.approx(sum(range(8)) / 8 / 15)
    with pytest.raises(ValueError, match="at the size of region"):
        E.mask_mean_in_out(exact[..., :2], region)



def test_plain_background_is_one_grey_behind_every_face():
    from maskstyle.models.lomit.data import BACKGROUNDS, FaceWorldDomains

    plain = FaceWorldDomains(4, 32, seed=3, background="plain")
    corners = plain.images[:, :, 0, 0]  # the top-left pixel is background in every face
    grey = torch.tensor(BACKGROUNDS["plain"]["colour_a"])
    assert torch.allclose(corners, grey.expand_as(corners), atol=0.08)
    assert plain.provenance["background"] == "plain"
    random = FaceWorldDomains(4, 32, seed=3)
    assert "background" not in random.provenance
    assert (random.labels == plain.labels).all()  # same faces, same attributes
    assert (random.images[:, :, 0, 0] - corners).abs().max() > 0.05
    with pytest.raises(ValueError, match="background must be one of"):
        FaceWorldDomains(4, 32, background="white")


def test_face_framing_fills_the_frame_and_regions_follow_it():
    """framing="face": the same faces, the head 1.6x larger (close_up), kept in params so
    the true regions and the ground-truth translations are re-rendered in the same framing."""
    from maskstyle.data.labels import LABEL_INDEX
    from maskstyle.data.synth.params import FaceParams
    from maskstyle.data.synth.renderer import render
    from maskstyle.models.lomit.data import (
        FRAMINGS,
        FaceWorldDomains,
        counterfactual_image,
        translation_region,
    )

    portrait = FaceWorldDomains(4, 32, seed=3, background="plain")
    face = FaceWorldDomains(4, 32, seed=3, background="plain", framing="face")
    assert (portrait.labels == face.labels).all()  # same faces, same attributes
    assert "framing" not in portrait.provenance
    assert face.provenance["framing"] == "face (zoom 1.6)"
    for p, q in zip(portrait.params, face.params):
        for dim in ("head_width", "head_height", "head_depth"):
            assert q["geometry"][dim] == pytest.approx(FRAMINGS["face"] * p["geometry"][dim])
    skin = LABEL_INDEX["skin"]
    areas = [[int((render(FaceParams.from_dict(d.params[i]), 32)["mask"] == skin).sum())
              for i in range(4)] for d in (portrait, face)]  # fmt: skip
    for a, b in zip(*areas):
        assert b > 1.8 * a  # about 1.6^2 = 2.56 times the skin (less what the frame cuts)
    # the stored params reproduce the images, so regions and ground truths share the framing
    again = render(FaceParams.from_dict(face.params[0]), 32)["image"]
    assert torch.allclose(again, face.images[0])
    region, names = translation_region(face.params[0], face.params[1], 32)
    truth = counterfactual_image(face.params[0], face.params[1], 32)
    assert names and region.any()  # faces 0 and 1 differ, so the check below has a region
    outside = ~region
    assert torch.allclose(truth[:, outside], face.images[0][:, outside], atol=1e-4)
    with pytest.raises(ValueError, match="framing must be one of"):
        FaceWorldDomains(4, 32, framing="close")
    with pytest.raises(ValueError, match="framing must be one of"):
        TrainConfig(framing="close")
    with pytest.raises(ValueError, match="background must be one of"):
        TrainConfig(background="white")


def test_close_up_scales_the_head_about_its_centre():
    from maskstyle.data.synth import close_up, sample_params

    p = sample_params(5)
    assert close_up(p, 1) is p
    q = close_up(p, 2.0)
    assert q.geometry.head_width == pytest.approx(2 * p.geometry.head_width)
    assert q.geometry.head_height == pytest.approx(2 * p.geometry.head_height)
    assert q.geometry.head_depth == pytest.approx(2 * p.geometry.head_depth)
    assert (q.geometry.center_x, q.geometry.center_y) == (p.geometry.center_x,
                                                          p.geometry.center_y)  # fmt: skip
    assert q.identity == p.identity and q.objects == p.objects
    with pytest.raises(ValueError, match="zoom must be > 0"):
        close_up(p, 0)


def test_class_head_warm_up_trains_only_the_critic(tmp_path, faces):
    """cls_warmup: the first steps update D on Eq. 11 alone; G starts after them."""
    config = TrainConfig(**{**TINY.__dict__, "cls_warmup": 3})
    torch.manual_seed(0)
    model, disc, history = train_lomit(config, 3, tmp_path / "w", log_every=1,
                                       checkpoint_every=3, progress=False, faces=faces)
    from maskstyle.models.lomit.model import LOMIT
    from maskstyle.utils.seed import seed_everything

    seed_everything(config.seed)
    fresh = LOMIT(config.model_config())  # G as train_lomit builds it, before any step
    for (name, p), q in zip(model.named_parameters(), fresh.parameters()):
        assert torch.equal(p, q), f"{name} moved during the warm-up"
    frame = history.to_frame()
    assert "g_total" not in frame.columns and frame["d_cls_real"].notna().all()
    # after the warm-up the usual alternation resumes: G's first step is warm-up + g_every
    _, _, later = train_lomit(config, 5, tmp_path / "w", log_every=1, checkpoint_every=5,
                              progress=False, faces=faces)
    rows = later.to_frame().set_index("step")
    assert rows.loc[4, "d_wasserstein"] == rows.loc[4, "d_wasserstein"]  # a GAN D step
    assert np.isnan(rows.loc[4, "g_total"]) and not np.isnan(rows.loc[5, "g_total"])


def test_separate_class_trunk_splits_the_critic_and_the_classifier(tmp_path, faces):
    """cls_trunk="separate": Eq. 11 trains only the classifier network (warm-up and GAN steps),
    Eq. 10 only the critic; G reads its Eq. 12 logits from the classifier."""
    import copy

    from maskstyle.models.lomit.train import SeparateClassifierCritic, build_discriminator

    config = TrainConfig(**{**TINY.__dict__, "cls_warmup": 2, "cls_trunk": "separate"})
    torch.manual_seed(0)
    d = build_discriminator(config, 10)
    assert isinstance(d, SeparateClassifierCritic)
    x = torch.rand(3, 3, 32, 32)
    src, cls = d(x)
    torch.testing.assert_close(src, d.critic(x)[0])
    torch.testing.assert_close(cls, d.classifier(x)[1])
    assert not torch.equal(d.critic(x)[1], cls)  # two trunks, not one

    def params(module):
        return {k: v.detach().clone() for k, v in module.state_dict().items()}

    _, warm, _ = train_lomit(config, 2, tmp_path / "s", log_every=1, checkpoint_every=2,
                             progress=False, faces=faces)
    seeded = copy.deepcopy(warm)
    _, after, _ = train_lomit(config, 4, tmp_path / "s", log_every=1, checkpoint_every=4,
                              progress=False, faces=faces)
    from maskstyle.models.lomit.model import LOMIT
    from maskstyle.utils.seed import seed_everything

    seed_everything(config.seed)
    LOMIT(config.model_config())  # train_lomit builds G first, then D
    first = build_discriminator(config, 10)  # D as train_lomit builds it, before any step
    changed = lambda a, b: {k for k in a if not torch.equal(a[k], b[k])}  # noqa: E731
    # warm-up (Eq. 11 alone): the classifier moved, the critic did not
    assert changed(params(first.classifier), params(seeded.classifier))
    assert not changed(params(first.critic), params(seeded.critic))
    # GAN steps: the critic's trunk and source head move, its unused class head never does
    moved = changed(params(seeded.critic), params(after.critic))
    assert any(k.startswith("main.") for k in moved) and "src.weight" in moved
    assert "cls.weight" not in moved
    assert "src.weight" not in changed(params(seeded.classifier), params(after.classifier))
    with pytest.raises(ValueError, match="cls_trunk must be one of"):
        build_discriminator(TrainConfig(**{**TINY.__dict__, "cls_trunk": "both"}), 10)


def test_normalised_class_trunk_and_its_learning_rate(tmp_path, faces):
    """cls_trunk="normalised": the classifier's trunk has batch norm, the critic's none;
    cls_lr puts the classifier in its own Adam group, so the first warm-up step moves its
    weights by about cls_lr (Adam's first step: lr * g / (|g| + eps)) and the critic not at all."""
    from maskstyle.models.lomit.model import LOMIT
    from maskstyle.models.lomit.train import (
        SeparateClassifierCritic,
        build_discriminator,
        discriminator_param_groups,
    )
    from maskstyle.utils.seed import seed_everything

    config = TrainConfig(**{**TINY.__dict__, "cls_warmup": 1, "cls_trunk": "normalised",
                            "cls_lr": 3e-3})  # fmt: skip
    d = build_discriminator(config, 10)
    assert isinstance(d, SeparateClassifierCritic)
    bn = lambda m: [x for x in m.modules() if isinstance(x, torch.nn.BatchNorm2d)]  # noqa: E731
    assert len(bn(d.classifier)) == config.d_layers and not bn(d.critic)
    groups = discriminator_param_groups(d, config)
    assert [g.get("lr") for g in groups] == [None, 3e-3]
    assert sum(len(g["params"]) for g in groups) == len(list(d.parameters()))

    seed_everything(config.seed)
    LOMIT(config.model_config())  # train_lomit builds G first, then D
    first = build_discriminator(config, 10)
    _, warm, _ = train_lomit(config, 1, tmp_path / "n", log_every=1, checkpoint_every=1,
                             progress=False, faces=faces)
    w0, w1 = first.classifier.main[0].weight, warm.classifier.main[0].weight
    step = (w1 - w0).abs()
    assert step.max() <= 3e-3 * 1.001 and step.max() > 3e-3 * 0.9  # cls_lr, not lr = 1e-4
    for a, b in zip(first.critic.parameters(), warm.critic.parameters()):
        assert torch.equal(a, b)  # Eq. 11 alone: the critic rests

    with pytest.raises(ValueError, match="needs a classifier of its own"):
        discriminator_param_groups(build_discriminator(TINY, 10),
                                   TrainConfig(**{**TINY.__dict__, "cls_lr": 1e-3}))
    with pytest.raises(ValueError, match="cls_lr must be a positive"):
        discriminator_param_groups(d, TrainConfig(**{**config.__dict__, "cls_lr": 0.0}))


def test_reconstruction_warm_up_trains_only_the_generator(tmp_path, faces):
    """rec_warmup: after the class-head warm-up, G learns on Eq. 9 alone and D rests; the GAN
    alternation then starts from its first step (G after g_every D updates)."""
    import copy

    config = TrainConfig(**{**TINY.__dict__, "cls_warmup": 1, "rec_warmup": 2})
    torch.manual_seed(0)
    model1, disc1, _ = train_lomit(config, 1, tmp_path / "r", log_every=1, checkpoint_every=1,
                                   progress=False, faces=faces)
    g1, d1 = copy.deepcopy(model1.state_dict()), copy.deepcopy(disc1.state_dict())
    model3, disc3, history = train_lomit(config, 3, tmp_path / "r", log_every=1,
                                         checkpoint_every=3, progress=False, faces=faces)
    assert all(torch.equal(v, disc3.state_dict()[k]) for k, v in d1.items()), "D moved"
    assert any(not torch.equal(v, model3.state_dict()[k]) for k, v in g1.items()), "G rested"
    rows = history.to_frame().set_index("step")
    assert rows.loc[[2, 3], "g_rec"].notna().all() and "d_wasserstein" not in rows.columns
    _, _, later = train_lomit(config, 5, tmp_path / "r", log_every=1, checkpoint_every=5,
                              progress=False, faces=faces)
    rows = later.to_frame().set_index("step")
    assert rows.loc[4, "d_wasserstein"] == rows.loc[4, "d_wasserstein"]  # GAN D step
    assert np.isnan(rows.loc[4, "g_total"]) and not np.isnan(rows.loc[5, "g_total"])
    # the phase counts agree with the rows just logged: 1 class-head, 2 Eq. 9, 2 D steps, 1 G
    assert int(rows["d_cls_real"].notna().sum() - rows["d_wasserstein"].notna().sum()) == 1
    assert int(rows["g_total"].notna().sum()) == 1
    assert config.phase_steps(5) == {"cls_warmup": 1, "rec_warmup": 2, "d": 2, "g": 1}
    assert config.phase_steps(2) == {"cls_warmup": 1, "rec_warmup": 1, "d": 0, "g": 0}
    with pytest.raises(ValueError, match="rec_warmup"):
        train_lomit(TrainConfig(**{**TINY.__dict__, "rec_warmup": -1}), 1, tmp_path / "n",
                    progress=False, faces=faces)


def test_reconstruction_warm_up_lr_applies_to_its_steps_only(tmp_path, faces):
    """rec_lr: G's lr is rec_lr in the Eq. 9 warm-up steps and lr (times the appendix's
    schedule) elsewhere; D's schedule is untouched."""
    from maskstyle.models.lomit.losses import lr_factor
    from maskstyle.models.lomit.train import generator_schedule

    config = TrainConfig(**{**TINY.__dict__, "lr": 1e-4, "rec_lr": 5e-4, "cls_warmup": 2,
                            "rec_warmup": 3, "decay_start": 6, "decay_every": 2})  # fmt: skip
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, generator_schedule(config))
    seen = []
    for _ in range(9):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [1e-4, 1e-4, 5e-4, 5e-4, 5e-4] + [1e-4 * lr_factor(t, 6, 2) for t in range(5, 9)]
    assert seen == pytest.approx(expected)
    assert expected[-1] < 1e-4  # the decay reached the GAN steps
    plain = generator_schedule(TrainConfig(**{**TINY.__dict__, "rec_warmup": 3}))
    assert [plain(t) for t in range(4)] == [1.0] * 4  # rec_lr None: the lr throughout
    with pytest.raises(ValueError, match="rec_lr must be a positive"):
        train_lomit(TrainConfig(**{**TINY.__dict__, "rec_lr": 0.0}), 1, tmp_path / "n",
                    progress=False, faces=faces)


def test_critic_attribute_accuracy_against_hand_made_critics(tmp_path, faces):
    """A critic whose D_cls logits are the labels scores 1 on every attribute; one that always
    answers "absent" scores 1 - p; the majority rate is max(p, 1 - p), counted by hand."""
    labels = faces.labels[:10]
    images = faces.images[:10]

    class Oracle(torch.nn.Module):
        def __init__(self, logits):
            super().__init__()
            self.logits = logits

        def forward(self, x):
            return torch.zeros(x.shape[0], 1, 1, 1), self.logits[: x.shape[0]]

    exact = E.critic_attribute_accuracy(Oracle(2 * labels.float() - 1), images, labels)
    assert all(v["accuracy"] == 1.0 for v in exact.values())
    absent = E.critic_attribute_accuracy(Oracle(-torch.ones_like(labels.float())), images, labels)
    for j, name in enumerate(D.ATTRIBUTES):
        present = sum(int(labels[i, j]) for i in range(10))
        assert absent[name]["accuracy"] == pytest.approx(1 - present / 10)
        assert absent[name]["majority_rate"] == pytest.approx(max(present, 10 - present) / 10)
    with pytest.raises(ValueError, match="one column per attribute"):
        E.critic_attribute_accuracy(Oracle(labels.float()), images, labels[:, :3])
    # load_trained_critic rebuilds the critic a run trained, weight for weight
    from maskstyle.models.lomit.train import load_trained_critic

    config = TrainConfig(**{**TINY.__dict__, "cls_warmup": 2})
    _, disc, _ = train_lomit(config, 2, tmp_path / "c", checkpoint_every=2, progress=False,
                             faces=faces)
    loaded = load_trained_critic(tmp_path / "c", config, faces.labels.shape[1])
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in disc.state_dict().items())
    with pytest.raises(FileNotFoundError, match="no checkpoint in"):
        load_trained_critic(tmp_path / "none", config, faces.labels.shape[1])


def test_negative_warm_up_refused(tmp_path, faces):
    with pytest.raises(ValueError, match="cls_warmup"):
        train_lomit(TrainConfig(**{**TINY.__dict__, "cls_warmup": -1}), 1, tmp_path,
                    progress=False, faces=faces)


class _LookupClassifier(torch.nn.Module):
    """Predicts the labels stored for each known image exactly (an oracle for known images)."""

    def __init__(self, images, labels):
        super().__init__()
        self.table = {img.numpy().tobytes(): lab for img, lab in zip(images, labels)}

    def forward(self, x):
        return torch.stack([self.table[img.numpy().tobytes()] for img in x]) * 2 - 1


def test_ground_truth_translation_and_reference_accuracy(faces):
    from maskstyle.data.synth.attributes import attributes_from_params
    from maskstyle.data.synth.params import FaceParams

    p = faces.params
    # a face translated toward itself is itself
    torch.testing.assert_close(D.counterfactual_image(p[0], p[0], 32), faces.images[0])
    pairs = E.evaluation_pairs(faces.labels, 2, seed=0)
    known_images, known_labels = list(faces.images), list(faces.labels)
    for items in pairs.values():
        for i, j in items:
            p1, p2 = FaceParams.from_dict(p[i]), FaceParams.from_dict(p[j])
            a1, a2 = attributes_from_params(p1), attributes_from_params(p2)
            names = [a for a in D.ATTRIBUTES if a1[a] != a2[a]]
            truth = D.counterfactual_params(p1, p2, names)
            known_images.append(D.counterfactual_image(p[i], p[j], 32))
            known_labels.append(D.labels_from_attrs(attributes_from_params(truth)))
    oracle = _LookupClassifier(known_images, known_labels)
    ref = E.reference_accuracy(oracle, faces.images, faces.labels, p, pairs)
    classes = [c for c, items in pairs.items() if items]
    # the pairs differ in the class's attributes: the unchanged input never scores; the
    # exemplar and the ground truth (the exemplar's attributes on the input) always do
    assert all(ref["input"][c] == 0.0 for c in classes)
    assert all(ref["exemplar"][c] == 1.0 for c in classes)
    assert all(ref["ground_truth"][c] == 1.0 for c in classes)
    assert ref["exemplar"]["mean"] == 1.0
    # a classifier that says "no" to everything scores the share of all-false targets
    never = _LookupClassifier([], [])
    never.forward = lambda x: -torch.ones(x.shape[0], len(D.ATTRIBUTES))
    silent = E.reference_accuracy(never, faces.images, faces.labels, p, pairs)
    for c in classes:
        cols = [D.ATTRIBUTES.index(a) for a in E.CLASSES[c]]
        share = sum(not faces.labels[j, cols].any() for _, j in pairs[c]) / len(pairs[c])
        assert silent["input"][c] == pytest.approx(share) == silent["ground_truth"][c]


def test_rendering_ceiling_scores_the_redrawn_ground_truth(faces):
    """A generator that redraws its input exactly reaches the ground truth's CA (and l1 0);
    one that draws one fixed face everywhere scores that face's labels against the targets."""
    from types import SimpleNamespace

    p = faces.params
    pairs = E.evaluation_pairs(faces.labels, 2, seed=0)
    oracle = _LookupClassifier(faces.images, faces.labels)
    for items in pairs.values():
        for i, j in items:  # a ground truth carries the exemplar's attributes of its class
            truth = D.counterfactual_image(p[i], p[j], 32)
            oracle.table[truth.numpy().tobytes()] = faces.labels[j]

    class Exact:
        def encode_pair(self, x1, x2):
            assert x1.shape == x2.shape
            return SimpleNamespace(content=x1, mask=None, style_f=None, style_b=None), None

        def decode(self, content, mask, style_f, style_b):
            return content

    ceiling = E.rendering_ceiling(Exact(), oracle, faces.images, faces.labels, p, pairs)
    ref = E.reference_accuracy(oracle, faces.images, faces.labels, p, pairs)
    classes = [c for c, items in pairs.items() if items]
    assert all(ceiling[c] == ref["ground_truth"][c] for c in classes)
    assert ceiling["mean"] == pytest.approx(ref["ground_truth"]["mean"]) and ceiling["l1"] == 0

    class Fixed(Exact):  # draws face 0 whatever it is given
        def decode(self, content, mask, style_f, style_b):
            return faces.images[:1].expand(content.shape[0], -1, -1, -1)

    fixed = E.rendering_ceiling(Fixed(), oracle, faces.images, faces.labels, p, pairs)
    for c in classes:
        cols = [D.ATTRIBUTES.index(a) for a in E.CLASSES[c]]
        want = [bool((faces.labels[0, cols] == faces.labels[j, cols]).all()) for _, j in pairs[c]]
        assert fixed[c] == pytest.approx(sum(want) / len(want))
    assert fixed["l1"] > 0
    with pytest.raises(ValueError, match="no evaluation pairs"):
        E.rendering_ceiling(Exact(), oracle, faces.images, faces.labels, p, {})


def test_change_label_names_what_the_translation_changes():
    from maskstyle.models.lomit.data import ATTRIBUTES
    from maskstyle.models.lomit.notebook import change_label

    def hot(*names):
        return torch.tensor([a in names for a in ATTRIBUTES])

    brown_smiling = hot("Brown_Hair", "Smiling", "No_Beard")
    blond = hot("Blond_Hair", "No_Beard")
    assert change_label(brown_smiling, blond, ATTRIBUTES) == "+blond -brown -smile"
    assert change_label(blond, blond, ATTRIBUTES) == "no change"
    with pytest.raises(ValueError, match="one entry per attribute"):
        change_label(blond[:3], blond[:3], ATTRIBUTES)


def test_branch_from_warmups_equals_training_from_scratch(tmp_path, faces):
    """An R3 ablation branched from LOMIT's checkpoint at the end of the warm-ups ends in the
    same weights and losses as the ablation trained from step 0 (the warm-ups read no R weight);
    a run whose warm-ups differ (no attention) is refused."""
    from maskstyle.train import read_settings

    warm = {"cls_warmup": 1, "rec_warmup": 2}
    full = TrainConfig(**{**TINY.__dict__, **warm})
    ablation = TrainConfig(**{**full.__dict__, "w_r3": 0.0})
    train_lomit(full, 4, tmp_path / "lomit", log_every=1, checkpoint_every=3, keep_last=None,
                progress=False, faces=faces)
    source_history = (tmp_path / "lomit" / "history.csv").read_text()
    scratch, d_scratch, h_scratch = train_lomit(ablation, 5, tmp_path / "scratch", log_every=1,
                                                checkpoint_every=5, progress=False, faces=faces)
    branched, d_branched, h_branched = train_lomit(
        ablation, 5, tmp_path / "branched", log_every=1, checkpoint_every=5, progress=False,
        faces=faces, branch_from=tmp_path / "lomit")
    for a, b in ((scratch, branched), (d_scratch, d_branched)):
        for name, value in a.state_dict().items():
            assert torch.equal(value, b.state_dict()[name]), name
    a, b = h_scratch.to_frame(), h_branched.to_frame()
    terms = [c for c in a.columns if c != "wall_time"]
    assert list(b["step"]) == [1, 2, 3, 4, 5]  # the warm-up rows come from LOMIT's history
    np.testing.assert_array_equal(a[terms].to_numpy(), b[terms].to_numpy())
    assert read_settings(tmp_path / "branched")["w_r3"] == 0.0  # its own settings, not LOMIT's
    assert (tmp_path / "lomit" / "history.csv").read_text() == source_history  # untouched
    # GAN steps differ from LOMIT's (R3 is off): the branch really trained on
    lomit_rows = train_lomit(full, 5, tmp_path / "lomit", log_every=1, checkpoint_every=5,
                             progress=False, faces=faces)[2].to_frame()
    assert lomit_rows["g_total"].iloc[-1] != b["g_total"].iloc[-1]

    no_attention = TrainConfig(**{**full.__dict__, "attention": False})
    with pytest.raises(ValueError, match="attention"):
        train_lomit(no_attention, 5, tmp_path / "na", progress=False, faces=faces,
                    branch_from=tmp_path / "lomit")
    # nothing to share without warm-ups, or without a checkpoint at their end: trains itself
    train_lomit(TrainConfig(**{**full.__dict__, "w_r3": 0.0, "rec_warmup": 1}), 3,
                tmp_path / "own", progress=False, faces=faces, branch_from=tmp_path / "lomit")
    assert read_settings(tmp_path / "own")["rec_warmup"] == 1


def test_notebook_train_args_parse_back(tmp_path):
    """04's command line: every TrainConfig field and --branch-from survive the parser."""
    from maskstyle.models.lomit.notebook import train_args
    from maskstyle.models.lomit.train import parse_args

    config = TrainConfig(**{**TINY.__dict__, "w_r2": 0.0, "attention": False, "rec_lr": 1e-3})
    args = parse_args(train_args(config, 7, tmp_path / "run", log_every=5, checkpoint_every=7,
                                 branch_from=tmp_path / "lomit"))
    assert TrainConfig(**{k: getattr(args, k) for k in config.__dict__}) == config
    assert args.steps == 7 and args.branch_from == tmp_path / "lomit"
    assert parse_args(train_args(config, 7, tmp_path, log_every=5,
                                 checkpoint_every=7)).branch_from is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cls_trunk", "both", "cls_trunk must be one of"),
        ("cls_warmup", -1, r"cls_warmup must be >= 0 \(critic warm-up steps"),
        ("rec_warmup", -2, r"rec_warmup must be >= 0 \(generator warm-up steps"),
        ("cls_lr", -1e-3, "cls_lr must be a positive learning rate"),
        ("rec_lr", 0.0, "rec_lr must be a positive learning rate"),
        ("cls_lr", 1e-3, "needs a classifier of its own: set cls_trunk"),  # with trunk "shared"
    ],
)
def test_train_config_refuses_unusable_settings_when_made(field, value, message):
    """TrainConfig checks its fields once, when made, so every caller (CLI, notebooks,
    train_lomit, build_discriminator) gets the same error before any work starts."""
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{**TINY.__dict__, field: value})
    TrainConfig(**{**TINY.__dict__, "cls_lr": 1e-3, "cls_trunk": "separate"})  # valid together


def test_param_groups_refuse_a_shared_trunk_critic_for_a_cls_lr_config():
    """A config with its own classifier (cls_lr set) and a critic built for another config:
    the second Adam group has nothing to hold, so the mismatch is named."""
    from maskstyle.models.lomit.train import build_discriminator, discriminator_param_groups

    separate = TrainConfig(**{**TINY.__dict__, "cls_lr": 1e-3, "cls_trunk": "separate"})
    with pytest.raises(ValueError, match="needs a SeparateClassifierCritic, got StarGAN"):
        discriminator_param_groups(build_discriminator(TINY, 10), separate)
    groups = discriminator_param_groups(build_discriminator(separate, 10), separate)
    assert [g.get("lr") for g in groups] == [None, 1e-3]
