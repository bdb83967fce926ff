"""record (metrics + provenance), tables, figures, expect_artifacts, output_dir resolution."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from maskstyle.workbook import (
    dataframe_to_markdown,
    expect_artifacts,
    load_metrics,
    record,
    repo_root,
    resolve_output_dir,
    save_figure,
    save_table,
)

PROV = {
    "data": "face_world (seed 0, 4 faces)",
    "weights": "random init",
    "seed": 0,
    "profile": "smoke",
}


def test_record_writes_and_merges_entries(tmp_path):
    record(tmp_path, "first", metrics={"psnr": np.float32(20.5), "n": 3}, **PROV)
    entry = record(tmp_path, "second", metrics={"loss": [1.0, 0.5]}, wall_time_s=2.0, **PROV)
    doc = json.loads((tmp_path / "metrics.json").read_text())
    assert set(doc["entries"]) == {"first", "second"}
    assert doc["entries"]["first"]["metrics"] == {"psnr": 20.5, "n": 3}
    prov = doc["entries"]["second"]["provenance"]
    assert prov["wall_time_s"] == 2.0 and entry["provenance"] == prov
    for key in (
        "profile",
        "seed",
        "data",
        "weights",
        "commit",
        "dirty",
        "date",
        "device",
        "platform",
        "python",
        "packages",
    ):
        assert key in prov
    assert prov["commit"] is None or len(prov["commit"]) == 40  # this checkout's HEAD
    assert prov["packages"]["numpy"] == np.__version__
    assert doc["entries"]["first"]["provenance"]["wall_time_s"] > 0  # process uptime
    record(tmp_path, "first", metrics={"psnr": 1.0}, **PROV)  # replaces only that entry
    assert load_metrics(tmp_path)["entries"]["first"]["metrics"] == {"psnr": 1.0}
    assert "second" in load_metrics(tmp_path)["entries"]


def test_non_finite_values_are_null_and_listed(tmp_path):
    entry = record(tmp_path, "x", metrics={"a": math.nan, "b": {"c": math.inf}, "d": 1}, **PROV)
    assert entry["metrics"] == {"a": None, "b": {"c": None}, "d": 1}
    assert entry["non_finite"] == ["a", "b.c"]
    json.loads((tmp_path / "metrics.json").read_text())  # strict JSON, no NaN literals


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"profile": "full"}, ValueError, "profile must be one of"),
        ({"data": ""}, ValueError, "data is empty"),
        ({"weights": None}, ValueError, "weights is empty"),
        ({"seed": "0"}, TypeError, "seed must be an int"),
        ({"metrics": {}}, ValueError, "non-empty mapping"),
        ({"metrics": {"img": np.zeros(3)}}, TypeError, "is an array, not a scalar"),
        ({"metrics": {"obj": object()}}, TypeError, "has type object"),
        ({"name": "a b"}, ValueError, "without spaces or slashes"),
    ],
)
def test_record_rejects_bad_input(tmp_path, change, error, message):
    kwargs = {"name": "ok", "metrics": {"v": 1.0}, **PROV, **change}
    with pytest.raises(error, match=message):
        record(tmp_path, kwargs.pop("name"), **kwargs)


def test_load_metrics_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="must call maskstyle.workbook.record"):
        load_metrics(tmp_path)
    (tmp_path / "metrics.json").write_text('{"other": 1}')
    with pytest.raises(ValueError, match="not a maskstyle metrics file"):
        load_metrics(tmp_path)


def test_save_table_csv_and_markdown(tmp_path):
    df = pd.DataFrame({"method": ["a|b", "c"], "value": [1.23456, math.nan], "n": [1, 2]})
    csv_path, md_path = save_table(df, tmp_path, "t1")
    pd.testing.assert_frame_equal(pd.read_csv(csv_path), df)
    assert md_path.read_text().splitlines() == [
        "| method | value | n |",
        "|---|---:|---:|",
        "| a\\|b | 1.235 | 1 |",
        "| c | — | 2 |",
    ]
    assert dataframe_to_markdown(df, floatfmt=".2f").splitlines()[2] == "| a\\|b | 1.23 | 1 |"
    with pytest.raises(TypeError, match="pandas DataFrame"):
        save_table({"a": 1}, tmp_path, "t")
    with pytest.raises(ValueError, match="plain file stem"):
        save_table(df, tmp_path, "../escape")


def test_save_figure_and_size_limit(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.random.default_rng(0).random((64, 64, 3)))
    path = save_figure(fig, tmp_path, "noise")
    assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size < 1_000_000
    with pytest.raises(ValueError, match="make it smaller"):
        save_figure(fig, tmp_path, "too_big", max_bytes=100)
    assert not (tmp_path / "too_big.png").exists()
    plt.close(fig)
    with pytest.raises(TypeError, match="matplotlib Figure"):
        save_figure(np.zeros(3), tmp_path, "x")


def test_expect_artifacts(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / "empty.png").write_text("")
    (tmp_path / "b.png").write_text("y")
    assert [p.name for p in expect_artifacts(tmp_path, ["a.csv", "*.png"])] == ["a.csv", "b.png"]
    with pytest.raises(FileNotFoundError, match=r"\['empty.png', 'c.md'\].*'a.csv'"):
        expect_artifacts(tmp_path, ["a.csv", "empty.png", "c.md"])
    with pytest.raises(FileNotFoundError, match=r"\['\*.json'\]"):
        expect_artifacts(tmp_path, ["*.json"])
    with pytest.raises(ValueError, match="at least one"):
        expect_artifacts(tmp_path, [])


def test_output_dir_relative_to_repo_root(tmp_path, monkeypatch):
    assert (repo_root() / "pyproject.toml").is_file()
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "maskstyle"\n')
    monkeypatch.chdir(tmp_path / "sub" / "deeper")  # e.g. a notebook's folder
    assert repo_root() == tmp_path
    assert resolve_output_dir("runs/x/smoke") == tmp_path / "runs" / "x" / "smoke"
    assert (tmp_path / "runs" / "x" / "smoke").is_dir()
    assert resolve_output_dir(tmp_path / "abs", create=False) == tmp_path / "abs"
    monkeypatch.setenv("MASKSTYLE_ROOT", str(tmp_path / "sub"))
    assert repo_root() == tmp_path / "sub"
    monkeypatch.setenv("MASKSTYLE_ROOT", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="MASKSTYLE_ROOT"):
        repo_root()
    with pytest.raises(ValueError, match="output_dir is empty"):
        resolve_output_dir("")
