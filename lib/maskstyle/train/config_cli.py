"""A training run's config dataclass as its command line (labml's ``Configs``, StyleGAN2-ADA's
``training_options.json``): one object holds everything that defines a run, its fields
(commented with the paper's symbol or section) generate the ``--flags``, and the same object
is what the checkpoints and the run summary store and what a resume compares.

- :func:`add_config_arguments` - one ``--field-name`` per field: ``int``/``float``/``str``
  (optionally ``| None``), booleans as ``--flag/--no-flag``, ``tuple[str, ...]`` as a
  comma-separated list;
- :func:`config_from_args` - the config back from the parsed namespace
  (:func:`config_from_mapping`: from a run's stored settings);
- :func:`config_argv` - the flags that rebuild a config (what a notebook passes to
  ``workbook.launch_training``).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

C = TypeVar("C")

_SCALARS = {"int": int, "float": float, "str": str}


def _type_name(field: dataclasses.Field) -> str:
    """The annotation as written (``"int"``, ``"str | None"``), postponed or not."""
    kind = field.type
    if isinstance(kind, str):
        return kind
    return kind.__name__ if isinstance(kind, type) else str(kind)


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _negated(name: str) -> str:
    return "--no-" + name.replace("_", "-")


def add_config_arguments(
    parser: argparse.ArgumentParser, config_cls: type,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> None:  # fmt: skip
    """Add one flag per field of the dataclass ``config_cls``, defaulting to the field's default.

    ``aliases``: extra flags per field; for a boolean field they turn it off (``{"use_coords":
    ["--no-coords"]}`` keeps an older spelling working).
    """
    aliases = aliases or {}
    for field in dataclasses.fields(config_cls):
        kind = _type_name(field).removesuffix(" | None")
        default = field.default
        if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        if kind == "bool":
            parser.add_argument(_flag(field.name), dest=field.name, default=default,
                                action=argparse.BooleanOptionalAction)  # fmt: skip
            for alias in aliases.get(field.name, ()):
                parser.add_argument(alias, dest=field.name, action="store_false",
                                    help=f"= {_negated(field.name)}")  # fmt: skip
        elif kind == "tuple[str, ...]":
            parser.add_argument(_flag(field.name), *aliases.get(field.name, ()), dest=field.name,
                                type=_comma_list, default=default,
                                help="comma-separated")  # fmt: skip
        elif kind in _SCALARS:
            parser.add_argument(_flag(field.name), *aliases.get(field.name, ()), dest=field.name,
                                type=_SCALARS[kind], default=default)  # fmt: skip
        else:
            raise TypeError(
                f"{config_cls.__name__}.{field.name}: no command-line form for type "
                f"{_type_name(field)!r} (use int, float, str, bool or tuple[str, ...])"
            )


def config_from_mapping(config_cls: type[C], values: Mapping[str, Any]) -> C:
    """The ``config_cls`` instance of ``values`` (e.g. a run's stored settings; keys that are
    not fields are ignored, missing fields take their defaults)."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return config_cls(**{k: v for k, v in values.items() if k in names})


def config_from_args(config_cls: type[C], args: argparse.Namespace) -> C:
    """The ``config_cls`` instance of the parsed ``args`` (other attributes are ignored)."""
    return config_from_mapping(config_cls, vars(args))


def config_argv(config: Any) -> list[str]:
    """Flags that make :func:`config_from_args` rebuild ``config`` (``None`` fields left out,
    so they take their default ``None``)."""
    argv: list[str] = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value is None:
            continue
        if isinstance(value, bool):
            argv.append(_flag(field.name) if value else _negated(field.name))
        elif isinstance(value, tuple):
            argv += [_flag(field.name), ",".join(str(v) for v in value)]
        else:
            argv += [_flag(field.name), str(value)]
    return argv
