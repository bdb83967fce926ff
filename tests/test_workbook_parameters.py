"""Parameters cells (ast, literals only) and ``--set`` value coercion; series discovery."""

from __future__ import annotations

import pytest

from maskstyle.workbook import discover_series, new_notebook, write_notebook
from maskstyle.workbook.parameters import coerce_value, parse_parameters

BASE = {"profile": "smoke", "output_dir": "runs/x/smoke", "seed": 0}


def test_parse_literals_in_order():
    source = (
        "# defaults\nprofile = 'smoke'\nsize: int = 64\nlr = 1e-4\nregions = ['hair', 'skin']"
        "\nextra = {'a': (1, 2)}\nflag = True\nroot = None\n"
    )
    assert parse_parameters(source) == {
        "profile": "smoke",
        "size": 64,
        "lr": 1e-4,
        "regions": ["hair", "skin"],
        "extra": {"a": (1, 2)},
        "flag": True,
        "root": None,
    }


@pytest.mark.parametrize(
    "source, message",
    [
        ("size = 2 ** 6", "must be a plain literal"),
        ("import os", "only 'name = literal'"),
        ("a = b = 1", "only 'name = literal'"),
        ("cfg.size = 1", "assign to a plain name"),
        ("size = (", "not valid Python"),
        ("size = load()", "must be a plain literal"),
    ],
)
def test_non_literal_parameters_are_rejected(source, message):
    with pytest.raises(ValueError, match=message):
        parse_parameters(source)


@pytest.mark.parametrize(
    "raw, default, expected",
    [
        ("5", 1, 5),
        ("5", 1.0, 5.0),
        ("1e-4", 0.1, 1e-4),
        ("true", False, True),
        ("[1, 2]", [0], [1, 2]),
        ("hello world", "x", "hello world"),
        ("5", "x", "5"),  # a string default keeps the text
        ("null", 3, None),
        ("anything", None, "anything"),
        ("/data/celeba", None, "/data/celeba"),
    ],
)
def test_coerce_value(raw, default, expected):
    assert coerce_value("p", raw, default) == expected


@pytest.mark.parametrize("raw, default", [("x", 1), ("1.5", 1), ("1", True), ("yes!", 0.5)])
def test_coerce_value_type_mismatch(raw, default):
    with pytest.raises(ValueError, match=f"expected a {type(default).__name__}"):
        coerce_value("p", raw, default)


def test_discover_series(tmp_path):
    def make(path, **params):
        nb = new_notebook(
            "T",
            paper="p",
            section="s",
            shows="x",
            parameters={**BASE, **params},
            cells=["import maskstyle", "assert True"],
        )
        write_notebook(nb, path)

    make(tmp_path / "lrnet" / "02_train.ipynb", iterations=10)
    make(tmp_path / "lrnet" / "01_data.ipynb")
    make(tmp_path / "00_face_world.ipynb", n=4)
    make(tmp_path / ".ipynb_checkpoints" / "00_x.ipynb")
    (tmp_path / "empty").mkdir()
    found = discover_series(tmp_path)
    assert list(found) == ["face_world", "lrnet"]
    assert [p.name for p in found["lrnet"].notebooks] == ["01_data.ipynb", "02_train.ipynb"]
    assert found["lrnet"].parameters["02_train.ipynb"]["iterations"] == 10
    assert found["face_world"].known_parameters() == {"profile", "output_dir", "seed", "n"}
    with pytest.raises(FileNotFoundError, match="--notebooks"):
        discover_series(tmp_path / "missing")


def test_new_notebook_requires_runner_parameters():
    with pytest.raises(ValueError, match=r"must include \['seed'\]"):
        new_notebook(
            "T",
            paper="p",
            section="s",
            shows="x",
            parameters={"profile": "smoke", "output_dir": "o"},
            cells=[],
        )


def test_training_command(monkeypatch):
    import sys

    from maskstyle.workbook import training_command

    assert training_command("maskstyle.train.example_ddp", ["--steps", 2]) == [
        sys.executable,
        "-m",
        "maskstyle.train.example_ddp",
        "--steps",
        "2",
    ]
    cmd = training_command("m.train", launcher="torchrun", nproc_per_node=4)
    assert cmd == [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=4",
        "-m",
        "m.train",
    ]
    with pytest.raises(ValueError, match="needs launcher='torchrun'"):
        training_command("m", launcher="python", nproc_per_node=2)
    with pytest.raises(ValueError, match="launcher must be one of"):
        training_command("m", launcher="mpirun")
    with pytest.raises(ValueError, match=">= 1"):
        training_command("m", launcher="torchrun", nproc_per_node=0)


def test_launch_training_streams_and_raises(tmp_path, capsys):
    from maskstyle.workbook import launch_training

    (tmp_path / "a.json").write_text('{"loss": 0.5}')
    launch_training("json.tool", [tmp_path / "a.json"], log_path=tmp_path / "log")
    out = capsys.readouterr().out
    assert "-m json.tool" in out and '"loss": 0.5' in out
    assert '"loss": 0.5' in (tmp_path / "log").read_text()
    # a second launch (e.g. resuming a finished run) appends under its own header
    (tmp_path / "b.json").write_text('{"loss": 0.25}')
    launch_training("json.tool", [tmp_path / "b.json"], log_path=tmp_path / "log")
    log = (tmp_path / "log").read_text()
    assert '"loss": 0.5' in log and '"loss": 0.25' in log
    assert log.count("$ ") == 2 and log.index('"loss": 0.5') < log.index('"loss": 0.25')
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RuntimeError, match="exited with code 1"):
        launch_training("json.tool", [tmp_path / "bad.json"])


def test_launch_log_has_no_machine_paths(tmp_path, monkeypatch):
    """The log (committed under results/) names paths relative to the repository."""
    import sys

    from maskstyle.workbook import launch_training
    from maskstyle.workbook.launch import log_line

    root = tmp_path / "repo"
    (root / "runs").mkdir(parents=True)
    monkeypatch.setenv("MASKSTYLE_ROOT", str(root))
    (root / "runs" / "a.json").write_text(f'{{"path": "{root}/runs/x.pt"}}')
    launch_training("json.tool", [root / "runs" / "a.json"], log_path=tmp_path / "log")
    log = (tmp_path / "log").read_text()
    assert "$ python -m json.tool runs/a.json" in log and '"runs/x.pt"' in log
    assert str(root) not in log and sys.executable not in log
    outside = log_line(f"{sys.executable} -m m --out /elsewhere/x", None)
    assert outside == "python -m m --out /elsewhere/x"
