"""Paper numbers as data, and "paper vs ours" tables.

Each series transcribes its paper's tables into ``notebooks/<series>/paper_tables/`` (CSV or
YAML, see ``notebooks/README.md``). :func:`compare` joins such a table with the values a
notebook computed and gives, per row: the paper value and ours side by side, and the
difference ``ours - paper`` only where the two were measured alike (same metric definition,
comparable resolution and sample size, real data and weights on both sides): a number from
the synthetic face world with random weights minus a paper number measures nothing, so such
a row says why it has no difference instead. A value we cannot compute honestly (no
weights, no data) is passed as :class:`Missing` and shows as missing with its reason, never
as a number. Our provenance goes once into the table's caption (``table.attrs``), which
:func:`~maskstyle.workbook.save_table` writes above the Markdown table.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from maskstyle.workbook.paths import relative_paths, repo_root

REQUIRED_COLUMNS = ("source", "method", "metric", "value")
NON_KEY_COLUMNS = ("source", "value", "unit", "note")
NOT_COMPUTED = "not computed by this notebook"
NOT_COMPARABLE = (
    "no difference: not measured alike (our data, weights and setting are in the caption)"
)


@dataclass(frozen=True)
class Missing:
    """Our value for a paper row that we cannot compute honestly, with the reason
    (e.g. ``Missing("no pretrained VGG19 weights here")``)."""

    reason: str

    def __post_init__(self) -> None:
        if not self.reason or not str(self.reason).strip():
            raise ValueError("Missing needs a reason, e.g. Missing('no CelebAMask-HQ data')")


def load_paper_table(path: str | os.PathLike) -> Any:
    """Read one transcribed paper table (``.csv`` or ``.yaml``/``.yml``) as a DataFrame.

    Columns: ``source`` (table/figure of the paper), ``method``, ``metric``, ``value``
    (empty/null where the paper prints no number), optional ``unit`` and ``note``; every
    other column is an extra key (e.g. ``resolution``). In YAML, top-level ``source``,
    ``unit`` and ``note`` are defaults for the ``rows`` list.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"paper table {path} does not exist")
    if path.suffix == ".csv":
        df = pd.read_csv(path)
    elif path.suffix in (".yaml", ".yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list) or not doc["rows"]:
            raise ValueError(f"{path}: a YAML paper table needs a non-empty 'rows:' list")
        defaults = {k: doc[k] for k in ("source", "unit", "note") if k in doc}
        df = pd.DataFrame([{**defaults, **row} for row in doc["rows"]])
    else:
        raise ValueError(f"{path}: paper tables are .csv or .yaml files, got {path.suffix!r}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; required are {REQUIRED_COLUMNS}")
    if df["source"].isna().any() or (df["source"].astype(str).str.strip() == "").any():
        raise ValueError(f"{path}: every row needs a 'source' (the table or figure it is from)")
    try:
        df["value"] = pd.to_numeric(df["value"])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path}: 'value' must be numbers (empty where none): {err}") from err
    keys = key_columns(df)
    if df.duplicated(subset=keys).any():
        dupes = df[df.duplicated(subset=keys, keep=False)][keys].values.tolist()
        raise ValueError(f"{path}: duplicate rows for keys {keys}: {dupes}")
    df.attrs["path"] = str(path)
    return df


def paper_table(series: str, name: str, notebooks_root: str | os.PathLike | None = None) -> Any:
    """Load ``notebooks/<series>/paper_tables/<name>.csv|.yaml|.yml``."""
    folder = Path(notebooks_root or repo_root() / "notebooks") / series / "paper_tables"
    for suffix in (".csv", ".yaml", ".yml"):
        if (folder / f"{name}{suffix}").is_file():
            return load_paper_table(folder / f"{name}{suffix}")
    have = sorted(p.stem for p in folder.glob("*")) if folder.is_dir() else []
    raise FileNotFoundError(f"no paper table {name!r} in {folder}; available: {have}")


def key_columns(paper: Any) -> list[str]:
    """The columns that identify a row: ``method``, ``metric`` and any extra column."""
    return [c for c in paper.columns if c not in NON_KEY_COLUMNS]


def describe_provenance(provenance: str | Mapping[str, Any]) -> str:
    """A one-line summary of a :func:`~maskstyle.workbook.record` entry or its provenance."""
    if isinstance(provenance, str):
        if not provenance.strip():
            raise ValueError("provenance is empty; pass the entry returned by record(...)")
        return provenance
    prov = provenance.get("provenance", provenance)
    missing = [k for k in ("profile", "data", "weights", "seed") if k not in prov]
    if missing:
        raise ValueError(f"provenance lacks {missing}; pass the entry returned by record(...)")
    commit = (prov.get("commit") or "no commit")[:8]
    if prov.get("dirty"):
        commit += "+dirty"

    def text(v: Any) -> str:
        if isinstance(v, Mapping):
            return ", ".join(f"{k}={x}" for k, x in v.items())
        return str(v)

    return relative_paths(
        f"{prov['profile']} profile; data: {text(prov['data'])}; weights: "
        f"{text(prov['weights'])}; seed {prov['seed']}; commit {commit}"
    )


def compare(
    paper: Any,
    ours: Mapping[Any, float | Missing] | Any,
    provenance: str | Mapping[str, Any],
    comparable: bool | Mapping[Any, bool | str] = False,
    not_computed: str = NOT_COMPUTED,
) -> Any:
    """The "paper vs ours" table of ``paper`` (from :func:`load_paper_table`).

    ``ours`` maps a row key - ``(method, metric)``, plus extra key columns in table order -
    to a number or a :class:`Missing`; or it is a DataFrame with the key columns, ``value``
    and optional ``reason``. Paper rows absent from ``ours`` show as missing with reason
    ``not_computed``; a key of ``ours`` that is not in the paper table is an error (a typo
    would otherwise vanish). ``provenance`` is the entry returned by ``record`` (or a
    sentence); it becomes the table's caption (``table.attrs["caption"]``), once.

    ``comparable`` says which rows were measured alike, so that ``difference`` (ours -
    paper) means something: ``True`` for all, or a mapping from row key to ``True`` or to
    the reason the row is not comparable; rows it does not name get :data:`NOT_COMPARABLE`.

    Columns: keys, ``source``, ``paper``, ``ours``, ``difference``, ``unit`` (when the paper
    table has it), ``paper_note`` (when it has notes), ``ours_note`` (why ours is missing or
    why there is no difference).
    """
    import pandas as pd

    keys = key_columns(paper)
    ours_map = _ours_as_mapping(ours, keys)
    paper_keys = {tuple(row) for row in paper[keys].itertuples(index=False)}
    unknown = [k for k in ours_map if k not in paper_keys]
    if isinstance(comparable, Mapping):
        comparable = {k if isinstance(k, tuple) else (k,): v for k, v in comparable.items()}
        unknown += [k for k in comparable if k not in paper_keys]
    if unknown:
        raise KeyError(
            f"our values for {unknown} match no paper row; keys are {keys} and the paper "
            f"table has {sorted(paper_keys)}"
        )
    caption = describe_provenance(provenance)
    rows = []
    for _, row in paper.iterrows():
        key = tuple(row[k] for k in keys)
        value = ours_map.get(key, Missing(not_computed))
        out: dict[str, Any] = {k: row[k] for k in keys}
        out["source"] = row["source"]
        out["paper"] = row["value"]
        out["difference"] = math.nan
        if isinstance(value, Missing):
            out["ours"], out["ours_note"] = math.nan, value.reason
        else:
            ours_value = float(value)
            out["ours"], out["ours_note"] = ours_value, ""
            alike = comparable.get(key, NOT_COMPARABLE) if isinstance(comparable, Mapping) else (
                True if comparable else NOT_COMPARABLE)
            if not math.isfinite(ours_value):
                out["ours_note"] = "not finite"
            elif alike is True:
                out["difference"] = ours_value - row["value"]  # NaN where the paper has none
            elif not (isinstance(row["value"], float) and math.isnan(row["value"])):
                out["ours_note"] = str(alike)
        if "unit" in paper.columns:
            out["unit"] = row["unit"]
        if "note" in paper.columns:
            note = row["note"]
            absent = note is None or (isinstance(note, float) and math.isnan(note))
            out["paper_note"] = "" if absent else note
        rows.append(out)
    columns = [*keys, "source", "paper", "ours", "difference"]
    columns += ["unit"] if "unit" in paper.columns else []
    columns += ["paper_note"] if "note" in paper.columns else []
    columns += ["ours_note"]
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["caption"] = caption
    return table


def _ours_as_mapping(ours: Any, keys: list[str]) -> dict[tuple, float | Missing]:
    import pandas as pd

    if isinstance(ours, pd.DataFrame):
        absent = [c for c in [*keys, "value"] if c not in ours.columns]
        if absent:
            raise ValueError(f"our DataFrame lacks columns {absent}; it needs {keys} + value")
        mapping: dict[tuple, float | Missing] = {}
        for _, row in ours.iterrows():
            reason = row.get("reason") if "reason" in ours.columns else None
            value = row["value"]
            is_empty = value is None or (isinstance(value, float) and math.isnan(value))
            if isinstance(reason, str) and reason.strip() and is_empty:
                mapping[tuple(row[k] for k in keys)] = Missing(reason)
            elif is_empty:
                raise ValueError(f"our row {dict(row)} has no value and no reason")
            else:
                mapping[tuple(row[k] for k in keys)] = value
        return mapping
    if not isinstance(ours, Mapping):
        raise TypeError("ours must be a mapping {key tuple: value | Missing} or a DataFrame")
    mapping = {}
    for key, value in ours.items():
        key = key if isinstance(key, tuple) else (key,)
        if len(key) != len(keys):
            raise ValueError(f"key {key} has {len(key)} parts; this table's keys are {keys}")
        if not isinstance(value, Missing):
            if hasattr(value, "item"):
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"our value for {key} must be a number or Missing, got {value!r}")
        mapping[key] = value
    return mapping
