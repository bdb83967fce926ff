"""Paper tables as data and the "paper vs ours" comparison."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from maskstyle.workbook import (
    Missing,
    compare,
    dataframe_to_markdown,
    describe_provenance,
    load_paper_table,
    paper_table,
)

CSV = """source,method,metric,resolution,value,unit
Table 3,Gatys,time,512,112,s
Table 3,ours,time,512,1.35,s
Table 3,ours,time,800,1.48,s
Table 3,doodle,time,800,,s
"""
YAML = """source: Figure 5
unit: dB
rows:
  - {method: lrnet, metric: psnr, value: 21.5}
  - {method: lrnet, metric: ssim, value: 0.81, unit: "", source: Table 2}
"""
PROV = {
    "provenance": {
        "profile": "smoke",
        "data": "face_world",
        "weights": "random init",
        "seed": 0,
        "commit": "0123456789abcdef",
        "dirty": False,
    }
}


@pytest.fixture
def tables(tmp_path):
    folder = tmp_path / "notebooks" / "fast" / "paper_tables"
    folder.mkdir(parents=True)
    (folder / "timings.csv").write_text(CSV)
    (folder / "quality.yaml").write_text(YAML)
    return tmp_path / "notebooks"


def test_load_csv_and_yaml(tables):
    csv = paper_table("fast", "timings", notebooks_root=tables)
    assert list(csv.columns) == ["source", "method", "metric", "resolution", "value", "unit"]
    assert csv.value.tolist()[:3] == [112, 1.35, 1.48] and math.isnan(csv.value.iloc[3])
    yml = paper_table("fast", "quality", notebooks_root=tables)
    assert yml.source.tolist() == ["Figure 5", "Table 2"]  # row overrides the default
    assert yml.unit.tolist() == ["dB", ""]
    with pytest.raises(FileNotFoundError, match=r"available: \['quality', 'timings'\]"):
        paper_table("fast", "nosuch", notebooks_root=tables)


def test_compare_paper_vs_ours(tables):
    paper = paper_table("fast", "timings", notebooks_root=tables)
    ours = {("ours", "time", 512): 2.0, ("Gatys", "time", 512): Missing("no VGG19 weights")}
    table = compare(paper, ours, provenance=PROV, comparable={("ours", "time", 512): True})
    assert list(table.columns) == [
        "method", "metric", "resolution", "source", "paper", "ours", "difference", "unit",
        "ours_note",
    ]
    row = table.iloc[1]
    assert row.ours == 2.0 and row.difference == pytest.approx(2.0 - 1.35)
    assert table.attrs["caption"] == (
        "smoke profile; data: face_world; weights: random init; seed 0; commit 01234567"
    )
    gatys = table.iloc[0]
    assert math.isnan(gatys.ours) and gatys.ours_note == "no VGG19 weights"
    assert table.iloc[2].ours_note == "not computed by this notebook"
    markdown = dataframe_to_markdown(table)
    assert "| Gatys | time | 512 | Table 3 | 112 | — | — | s | no VGG19 weights |" in markdown


def test_compare_gives_no_difference_where_settings_differ(tables):
    paper = paper_table("fast", "timings", notebooks_root=tables)
    ours = {("ours", "time", 512): 2.0, ("ours", "time", 800): 3.0}
    table = compare(paper, ours, provenance=PROV)  # nothing declared comparable
    assert table.difference.isna().all()
    assert table.iloc[1].ours_note.startswith("no difference: not measured alike")
    why = "ours at 48 px on CPU, the paper's at 800 px on a GPU"
    table = compare(paper, ours, provenance=PROV,
                    comparable={("ours", "time", 512): True, ("ours", "time", 800): why})
    assert table.iloc[1].difference == pytest.approx(0.65) and table.iloc[2].ours_note == why
    with pytest.raises(KeyError, match="match no paper row"):
        compare(paper, ours, provenance=PROV, comparable={("ours", "time", 999): True})


def test_paper_notes_are_kept(tmp_path):
    (tmp_path / "t.csv").write_text(
        "source,method,metric,value,note\nTable 1,alpha,time,,garbled in the paper\n")
    table = compare(load_paper_table(tmp_path / "t.csv"), {("alpha", "time"): 0.1}, provenance=PROV,
                    comparable=True)
    assert table.iloc[0].paper_note == "garbled in the paper"
    assert math.isnan(table.iloc[0].difference)


def test_save_table_writes_provenance_once_as_a_caption(tmp_path):
    from maskstyle.workbook import save_table

    paper = pd.DataFrame({"source": ["T1"], "method": ["a"], "metric": ["m"], "value": [1.0]})
    table = compare(paper, {("a", "m"): 2.0}, provenance=PROV)
    table["flag"] = [True]
    table["where"] = [str(tmp_path / "runs" / "x")]
    _, md = save_table(table, tmp_path, "t", caption="Paper vs ours.")
    text = md.read_text()
    assert text.startswith("*Paper vs ours. Made by: smoke profile; data: face_world;")
    assert text.count("smoke profile") == 1 and "| yes |" in text
    _, md = save_table(pd.DataFrame({"x": [1]}), tmp_path, "u", provenance=PROV)
    assert md.read_text().startswith("*Made by: smoke profile")


def test_compare_from_dataframe_and_nan_paper_value(tables):
    paper = paper_table("fast", "timings", notebooks_root=tables)
    ours = pd.DataFrame(
        {
            "method": ["doodle", "ours"],
            "metric": ["time", "time"],
            "resolution": [800, 800],
            "value": [3.0, None],
            "reason": ["", "no 600x800 images"],
        }
    )
    table = compare(paper, ours, provenance="a sentence about our run")
    doodle = table[table.method == "doodle"].iloc[0]
    assert doodle.ours == 3.0 and math.isnan(doodle.difference)  # paper prints no number
    ours800 = table[(table.method == "ours") & (table.resolution == 800)].iloc[0]
    assert ours800.ours_note == "no 600x800 images"


def test_compare_errors(tables):
    paper = paper_table("fast", "timings", notebooks_root=tables)
    with pytest.raises(KeyError, match="match no paper row"):
        compare(paper, {("ours", "tiem", 512): 1.0}, provenance=PROV)
    with pytest.raises(ValueError, match="has 2 parts"):
        compare(paper, {("ours", "time"): 1.0}, provenance=PROV)
    with pytest.raises(TypeError, match="number or Missing"):
        compare(paper, {("ours", "time", 512): "fast"}, provenance=PROV)
    with pytest.raises(ValueError, match="lacks"):
        compare(paper, {}, provenance={"profile": "smoke"})
    with pytest.raises(ValueError, match="needs a reason"):
        Missing("  ")
    bad = pd.DataFrame(
        {"method": ["ours"], "metric": ["time"], "resolution": [512], "value": [None]}
    )
    with pytest.raises(ValueError, match="no value and no reason"):
        compare(paper, bad, provenance=PROV)


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("a.csv", "method,metric,value\nx,y,1\n", r"missing columns \['source'\]"),
        ("b.csv", "source,method,metric,value\n,x,y,1\n", "needs a 'source'"),
        ("c.csv", "source,method,metric,value\nT1,x,y,fast\n", "'value' must be numbers"),
        ("d.csv", "source,method,metric,value\nT1,x,y,1\nT1,x,y,2\n", "duplicate rows"),
        ("e.yaml", "source: T1\n", "non-empty 'rows:' list"),
        ("f.json", "{}", "are .csv or .yaml"),
    ],
)
def test_bad_paper_tables(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=message):
        load_paper_table(tmp_path / name)


def test_describe_provenance_marks_dirty():
    prov = {**PROV["provenance"], "dirty": True, "data": {"dataset": "celebamask_hq", "n": 10}}
    assert describe_provenance(prov).endswith("commit 01234567+dirty")
    assert "data: dataset=celebamask_hq, n=10" in describe_provenance(prov)
