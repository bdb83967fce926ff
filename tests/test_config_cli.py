"""maskstyle.train.config_cli: a run's config dataclass as its command line, and the two
configs that use it (LRNet's and LOMIT's)."""

import argparse
from dataclasses import dataclass

import pytest

from maskstyle.models.lrnet.train import LRNetTrainConfig, training_args
from maskstyle.models.lrnet.train import parse_args as lrnet_parse_args
from maskstyle.train.config_cli import add_config_arguments, config_argv, config_from_args


@dataclass(frozen=True)
class Toy:
    steps: int = 3
    rate: float = 0.5
    name: str = "a"
    root: str | None = None
    flip: bool = True
    parts: tuple[str, ...] = ("x", "y")


def parse(argv, cls=Toy, aliases=None):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, cls, aliases)
    return config_from_args(cls, parser.parse_args(argv))


def test_defaults_come_from_the_fields():
    assert parse([]) == Toy()


def test_every_kind_of_field_parses():
    got = parse("--steps 7 --rate 0.25 --name b --root /data --no-flip --parts p,q,r".split())
    assert got == Toy(steps=7, rate=0.25, name="b", root="/data", flip=False, parts=("p", "q", "r"))


def test_argv_round_trips():
    config = Toy(steps=9, rate=1e-4, name="c", root=None, flip=False, parts=("z",))
    assert parse(config_argv(config)) == config
    assert "--root" not in config_argv(config)  # None stays the default


def test_an_alias_turns_a_boolean_off():
    assert parse(["--no-mirror"], aliases={"flip": ["--no-mirror"]}).flip is False


def test_an_unsupported_field_type_is_named():
    @dataclass
    class Bad:
        sizes: list[int]

    with pytest.raises(TypeError, match=r"Bad.sizes: no command-line form"):
        add_config_arguments(argparse.ArgumentParser(), Bad)


def test_lrnet_config_round_trips_through_the_training_command_line(tmp_path):
    config = LRNetTrainConfig(size=48, pairs=2, branches=("localin",), use_coords=False,
                              composite=False, lr=1e-3, seed=3, profile="smoke",
                              fpb_pairs=tmp_path / "fpb.pt")  # fmt: skip
    argv = training_args(tmp_path / "out", 40, fresh=True, **{
        k: getattr(config, k) for k in config.__dataclass_fields__})  # fmt: skip
    args = lrnet_parse_args(argv)
    assert config_from_args(LRNetTrainConfig, args) == config
    assert (args.steps, args.fresh, args.log_every, args.checkpoint_every) == (40, True, 1, 10)
    assert config.fpb_pairs == str(tmp_path / "fpb.pt")  # paths are stored as text


def test_lrnet_settings_name_every_field_and_the_loss_weights():
    settings = LRNetTrainConfig(branches=["reshuffle"]).settings()
    assert settings["branches"] == ["reshuffle"]
    assert settings["encoder_weights"] == "random"
    assert settings["loss_weights"] == [3.0, 20.0, 100.0, 0.35]  # Eq. 9
    assert {"size", "pairs", "data_root", "dataset", "fpb_pairs", "use_coords", "composite",
            "decoder_width", "decoder_depth", "lr", "batch_size", "seed",
            "profile"} <= set(settings)  # fmt: skip


def test_lrnet_old_flag_spellings_still_work():
    args = lrnet_parse_args("--steps 1 --out o --no-coords --branches localin".split())
    config = config_from_args(LRNetTrainConfig, args)
    assert config.use_coords is False and config.branches == ("localin",)


def test_lrnet_config_rejects_unknown_branches_before_training():
    with pytest.raises(ValueError, match="branches"):
        training_args("out", 10, branches=["localin", "nope"])
