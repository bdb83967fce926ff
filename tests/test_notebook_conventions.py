"""Every committed notebook follows the conventions of notebooks/README.md and is stripped;
and the checker itself catches each broken convention."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from maskstyle.workbook import new_notebook, notebook_problems, write_notebook
from maskstyle.workbook.conventions import repository_problems
from maskstyle.workbook.strip import is_stripped
from maskstyle.workbook.strip import main as strip_main

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
COMMITTED = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
IDS = [p.relative_to(NOTEBOOKS).as_posix() for p in COMMITTED]


@pytest.mark.parametrize("path", COMMITTED, ids=IDS)
def test_committed_notebook_follows_conventions(path):
    assert notebook_problems(path) == []


def test_no_helper_is_pasted_into_two_notebooks():
    assert repository_problems(COMMITTED) == []


def test_notebooks_are_lint_clean():
    """Notebooks are code too: ruff over them (E402 allowed: imports follow the parameters)."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [ruff, "check", "--no-cache", "--ignore", "E402",
         *map(str, COMMITTED)],
        capture_output=True, text=True, cwd=NOTEBOOKS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", COMMITTED, ids=IDS)
def test_committed_notebook_is_stripped(path):
    assert is_stripped(path), f"run: python -m maskstyle.workbook.strip {path}"


def _good(**overrides):
    kwargs = dict(
        paper="LRNet (papers/lrnet-localin-reshuffle-net.md)",
        section="3.2 Local reshuffle",
        shows="Reshuffles one region.",
        parameters={"profile": "smoke", "output_dir": "runs/x/smoke", "seed": 0, "size": 64},
        comments={"size": "image side in pixels"},
        cells=[
            "from maskstyle import workbook\nprint(profile, seed, size)",
            ("markdown", "Each patch is replaced by its nearest style patch:\n\n"
                         "$$ \\phi(x) = \\arg\\max_j \\langle x, s_j \\rangle \\tag{3} $$"),
            ("markdown", "**What you should see:** the hair takes the style's texture."),
            "workbook.expect_artifacts(output_dir, ['a'])",
        ],
    )
    kwargs.update(overrides)
    return new_notebook("Title", **kwargs)


def _problems(tmp_path, nb) -> list[str]:
    return notebook_problems(write_notebook(nb, tmp_path / "nb.ipynb"))


def test_good_notebook_has_no_problems(tmp_path):
    assert _problems(tmp_path, _good()) == []


def _break(nb, how):
    if how == "outputs":
        nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="x")]
        nb.cells[2].execution_count = 1
    elif how == "kernel":
        nb.metadata.kernelspec.name = "conda-env"
    elif how == "first_cell":
        nb.cells[0] = nbformat.v4.new_code_cell("import maskstyle")
    elif how == "no_paper_line":
        nb.cells[0].source = "# Title\n\n**Section:** 3"
    elif how == "not_literal":
        nb.cells[1].source += "\nsize = 2 ** 6"
    elif how == "untagged":
        nb.cells[1].metadata = {}
    elif how == "sys_path":
        nb.cells[2].source = "import sys\nsys.path.insert(0, '../lib')\nimport maskstyle"
    elif how == "no_import":
        nb.cells[2].source = "import numpy"
    elif how == "no_final_check":
        nb.cells[-1].source = "print('done')"
    elif how == "missing_runner_param":
        nb.cells[1].source = "profile = 'smoke'\nseed = 0"
    elif how == "no_data_line":
        nb.cells[0].source = nb.cells[0].source.split("**Data/weights:**")[0]
    elif how == "no_equation":
        nb.cells[3].source = "Each patch is replaced by its nearest style patch."
    elif how == "no_should_see":
        nb.cells[4].source = "The hair takes the style's texture."
    elif how == "uncommented_param":
        nb.cells[1].source = nb.cells[1].source.replace("  # image side in pixels", "")
    elif how == "unused_param":
        nb.cells[1].source += "\nlayer = 'relu3_1'  # the VGG layer"
    elif how == "hard_coded":
        nb.cells[1].source += "\nlayer = 'relu3_1'  # the VGG layer"
        nb.cells[2].source += "\nprint(layer, 'relu3_1')"
    elif how == "no_progress":
        nb.cells[2].source += "\nargs = ['--steps', 3, '--no-progress']"
    elif how == "absolute_path":
        nb.cells[2].source += "\nopen('/work/main/runs/x.png')"
    elif how == "long_header":
        nb.cells[0].source += " word" * 130
    return nb


@pytest.mark.parametrize(
    "how, message",
    [
        ("outputs", "has outputs or an execution count"),
        ("kernel", "kernelspec must be 'python3'"),
        ("first_cell", "first cell must be markdown"),
        ("no_paper_line", "needs a 'Paper:' line"),
        ("not_literal", "must be a plain literal"),
        ("untagged", "exactly one cell tagged 'parameters'"),
        ("sys_path", "uses sys.path"),
        ("no_import", "never imports maskstyle"),
        ("no_final_check", "last cell must check its artifacts"),
        ("missing_runner_param", "must declare ['output_dir']"),
        ("no_data_line", "needs one short '**Data/weights:**' line"),
        ("no_equation", "no numbered equation"),
        ("no_should_see", "no '**What you should see:**'"),
        ("uncommented_param", "parameter 'size' has no trailing '# comment'"),
        ("unused_param", "parameter 'layer' is declared but never used"),
        ("hard_coded", "hard-codes 'relu3_1', the value of parameter 'layer'"),
        ("no_progress", "passes --no-progress"),
        ("absolute_path", "absolute path '/work/main/runs/x.png'"),
        ("long_header", "words (at most 120)"),
    ],
)
def test_checker_catches_each_broken_convention(tmp_path, how, message):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_break(_good(), how), path)
    problems = notebook_problems(path)
    assert any(message in p for p in problems), problems


def test_a_notebook_without_equations_says_so(tmp_path):
    nb = _break(_good(), "no_equation")
    nb.cells[0].source += "\n\n**Equations:** none - this notebook only renders the data."
    assert _problems(tmp_path, nb) == []


def test_a_helper_pasted_into_two_notebooks_is_flagged(tmp_path):
    paths = []
    for name in ("a", "b"):
        nb = _good()
        nb.cells[2].source += "\ndef show(x):\n    return x"
        paths.append(write_notebook(nb, tmp_path / f"{name}.ipynb"))
    problems = repository_problems(paths)
    assert len(problems) == 1 and "'show' is defined in 2 notebooks" in problems[0]


def test_strip_tool_cleans_an_executed_notebook(tmp_path, capsys):
    nb = _break(_good(), "outputs")
    nb.metadata["papermill"] = {"duration": 1.0}
    nb.cells[2].metadata["execution"] = {"iopub.status.busy": "2026"}
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    assert not is_stripped(path)
    assert strip_main(["--check", str(path)]) == 1
    assert "not stripped" in capsys.readouterr().out
    assert strip_main([str(path)]) == 0
    assert is_stripped(path) and notebook_problems(path) == []
    assert strip_main(["--check", str(path)]) == 0
    cleaned = nbformat.read(path, as_version=4)
    assert cleaned.cells[1].metadata == {"tags": ["parameters"]}  # tags survive
