"""``maskstyle run`` on tiny notebooks written here: success, a failing cell, --fail-fast,
unknown parameters, re-run skipping, --force, provenance, results index, --list.

Kernels take ~2-3 s to start, so the real papermill runs are few and shared (module-scoped
fixtures); the skip/fail-fast bookkeeping is also tested with a fake executor.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from maskstyle.workbook import new_notebook, write_notebook
from maskstyle.workbook.cli import main as run_main
from maskstyle.workbook.runner import (
    FAILED,
    NOT_RUN,
    OK,
    WorkbookError,
    parse_sets,
    plan_batch,
    run_batch,
)

BASE = {"profile": "smoke", "output_dir": "runs/test/smoke", "seed": 0}
PAPER_TABLE = """\
source: Table 1 (made up for the test)
rows:
  - {method: ours, metric: score, value: 5.0}
  - {method: ours, metric: fid, value: 30.0}
"""


def _nb(path: Path, params: dict, cells: list[str]) -> None:
    nb = new_notebook(
        "Test",
        paper="none",
        section="test",
        shows="test",
        parameters={**BASE, **params},
        cells=cells,
    )
    write_notebook(nb, path)


def make_notebooks(root: Path) -> Path:
    _nb(
        root / "alpha" / "01_metrics.ipynb",
        {"scale": 2},
        [
            "import os\nfrom maskstyle import workbook",
            "open(os.path.join(output_dir, 'cwd.txt'), 'w').write(os.getcwd())",
            "workbook.record(output_dir, 'alpha', metrics={'score': scale * 1.5}, "
            "data='unit-test constants', weights='none (no model)', seed=seed, profile=profile)",
            "workbook.expect_artifacts(output_dir, ['metrics.json'])",
        ],
    )
    _nb(
        root / "alpha" / "02_tables.ipynb",
        {"width": 3},
        [
            "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "import pandas as pd\nfrom maskstyle import workbook",
            "ours = workbook.load_metrics(output_dir)['entries']['alpha']\n"
            "paper = workbook.paper_table('alpha', 't1', notebooks_root='..')\n"
            "table = workbook.compare(paper, {('ours', 'score'): ours['metrics']['score'], "
            "('ours', 'fid'): workbook.Missing('no Inception weights')}, provenance=ours, "
            "comparable={('ours', 'score'): True})\n"
            "workbook.save_table(table, output_dir, 'paper_vs_ours')",
            "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot(range(width))\n"
            "workbook.save_figure(fig, output_dir, 'curve')",
            "workbook.expect_artifacts(output_dir, ['paper_vs_ours.csv', 'paper_vs_ours.md', "
            "'curve.png'])",
        ],
    )
    (root / "alpha" / "paper_tables").mkdir()
    (root / "alpha" / "paper_tables" / "t1.yaml").write_text(PAPER_TABLE)
    (root / "alpha" / "paper.yaml").write_text(
        "paper: a made-up paper\nexecution_timeout: {paper: 120}\nseed: 11\n"
        "parameters: {scale: 10}\nnotebooks:\n  02_tables.ipynb: {width: 7}\n"
    )
    _nb(
        root / "beta" / "01_fails.ipynb",
        {},
        [
            "import maskstyle",
            "raise RuntimeError('boom on purpose')",
            "open(f'{output_dir}/after_error.txt', 'w').write('x')",
            "assert False",
        ],
    )
    _nb(
        root / "gamma" / "01_ok.ipynb",
        {},
        [
            "import os\nimport maskstyle\nos.makedirs(output_dir, exist_ok=True)\n"
            "open(os.path.join(output_dir, 'done.txt'), 'w').write(os.getcwd())",
            "assert os.path.getsize(os.path.join(output_dir, 'done.txt'))",
        ],
    )
    _nb(root / "00_zeta.ipynb", {"size": 8}, ["import maskstyle", "assert size == 8"])
    return root


def _read_all(out: Path) -> dict:
    return {
        "readme": (out / "README.md").read_text(),
        "runs": {
            s: json.loads((out / s / "smoke" / "run.json").read_text()) for s in ("alpha", "beta")
        },
        "metrics": json.loads((out / "alpha" / "smoke" / "metrics.json").read_text()),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The one real batch (3 kernels): beta fails, then alpha (2 notebooks) still runs."""
    tmp = tmp_path_factory.mktemp("workbook")
    root = make_notebooks(tmp / "notebooks")
    out = tmp / "results"
    argv = [
        "beta",
        "alpha",
        "--notebooks",
        str(root),
        "--out",
        str(out),
        "--set",
        "scale=4",
        "--seed",
        "3",
        "--no-progress",
    ]
    rc = run_main(argv)
    return {"rc": rc, "root": root, "out": out, "argv": argv, "first": _read_all(out)}


def test_failure_is_recorded_and_batch_goes_on(batch):
    assert batch["rc"] == 1  # something failed
    runs = batch["first"]["runs"]
    assert runs["alpha"]["status"] == OK
    assert [n["status"] for n in runs["alpha"]["notebooks"]] == [OK, OK]
    assert runs["beta"]["status"] == FAILED
    assert "RuntimeError: boom on purpose" in runs["beta"]["notebooks"][0]["error"]
    # the series after the failed one still ran
    # the executed copy keeps the error; the cells after it never ran
    executed = nbformat.read(batch["out"] / "beta/smoke/executed/01_fails.ipynb", as_version=4)
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors and errors[0]["evalue"] == "boom on purpose"
    assert not (batch["out"] / "beta/smoke/after_error.txt").exists()


def test_parameters_reach_the_notebook_with_working_directory(batch):
    runs = batch["first"]["runs"]
    params = runs["alpha"]["notebooks"][0]["parameters"]
    assert params == {
        "scale": 4,
        "profile": "smoke",
        "output_dir": "<results>/alpha/smoke",
        "seed": 3,
    }
    # cwd = the notebook's folder
    assert (batch["out"] / "alpha/smoke/cwd.txt").read_text() == str(batch["root"] / "alpha")


def test_metrics_carry_provenance(batch):
    entry = batch["first"]["metrics"]["entries"]["alpha"]
    assert entry["metrics"] == {"score": 6.0}  # scale=4 from --set, times 1.5
    prov = entry["provenance"]
    assert prov["profile"] == "smoke" and prov["seed"] == 3
    assert prov["data"] == "unit-test constants" and prov["weights"] == "none (no model)"
    assert prov["packages"]["torch"] and prov["packages"]["maskstyle"]
    assert prov["device"].startswith(("cpu", "cuda")) and prov["wall_time_s"] > 0
    assert "commit" in prov and "date" in prov and "python" in prov


def test_paper_vs_ours_and_figure_written(batch):
    import pandas as pd

    table = pd.read_csv(batch["out"] / "alpha/smoke/paper_vs_ours.csv")
    score = table[table.metric == "score"].iloc[0]
    assert score.paper == 5.0 and score.ours == 6.0 and score.difference == pytest.approx(1.0)
    caption = (batch["out"] / "alpha/smoke/paper_vs_ours.md").read_text().splitlines()[0]
    assert "unit-test constants" in caption and caption.startswith("*Made by: smoke profile")
    fid = table[table.metric == "fid"].iloc[0]
    assert pd.isna(fid.ours) and fid.ours_note == "no Inception weights"
    png = batch["out"] / "alpha/smoke/curve.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < 1_000_000


def test_results_index(batch):
    readme = batch["first"]["readme"]
    assert "| [alpha](alpha/smoke/) | smoke | **ok** | 2/2 |" in readme
    assert "| [beta](beta/smoke/) | smoke | **failed** | 0/1 |" in readme
    assert "[paper_vs_ours](alpha/smoke/paper_vs_ours.md)" in readme
    assert "[curve](alpha/smoke/curve.png)" in readme
    assert "unit-test constants" in readme and "boom on purpose" in readme


def test_rerun_skips_finished_notebooks(batch, capsys):
    out, root = batch["out"], batch["root"]
    executed = out / "alpha/smoke/executed/01_metrics.ipynb"
    before = executed.stat().st_mtime_ns
    common = ["--notebooks", str(root), "--out", str(out), "--seed", "3", "--no-progress"]
    capsys.readouterr()
    assert run_main(["alpha", "--set", "scale=4", *common]) == 0  # no kernel starts
    text = capsys.readouterr().out
    assert text.count("reused") == 2 and " ran " not in text
    assert executed.stat().st_mtime_ns == before
    assert json.loads((out / "alpha/smoke/run.json").read_text())["status"] == OK


def test_cli_fail_fast_and_force_reach_the_runner(notebooks, tmp_path, monkeypatch):
    import maskstyle.workbook.runner as runner

    calls: list[str] = []

    def fake(job):
        calls.append(f"{job.series}/{job.notebook.name}")
        job.executed_path.parent.mkdir(parents=True, exist_ok=True)
        job.executed_path.write_text("{}")
        if job.series == "beta":
            raise RuntimeError("fake failure")

    monkeypatch.setattr(runner, "execute_with_papermill", fake)
    common = ["--notebooks", str(notebooks), "--out", str(tmp_path), "--no-progress"]
    assert run_main(["beta", "gamma", "--fail-fast", *common]) == 1
    assert calls == ["beta/01_fails.ipynb"]
    gamma = json.loads((tmp_path / "gamma/smoke/run.json").read_text())
    assert gamma["status"] == "incomplete" and gamma["notebooks"][0]["status"] == NOT_RUN
    assert run_main(["gamma", *common]) == 0
    assert run_main(["gamma", *common]) == 0  # finished: skipped
    assert run_main(["gamma", "--force", *common]) == 0  # forced: runs again
    assert calls == ["beta/01_fails.ipynb", "gamma/01_ok.ipynb", "gamma/01_ok.ipynb"]


# --- checks before any kernel starts -------------------------------------------------------


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    return make_notebooks(tmp_path_factory.mktemp("plan") / "notebooks")


def test_unknown_parameter_lists_known_ones(notebooks, tmp_path, capsys):
    rc = run_main(
        ["alpha", "--set", "scael=4", "--notebooks", str(notebooks), "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert "unknown parameter(s) ['scael']" in err and "'scale'" in err and "'width'" in err
    assert not any(tmp_path.iterdir())  # nothing ran


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nosuch"], "unknown series ['nosuch']"),
        ([], "name the series to run, or 'all'"),
        (["alpha", "--set", "scale=big"], "expected a int like the default 2"),
        (["alpha", "--set", "noequals"], "--set expects name=value"),
        (["alpha", "--set", "output_dir=/x"], "--set cannot change ['output_dir']"),
    ],
)
def test_bad_requests_are_errors(notebooks, tmp_path, capsys, argv, message):
    assert run_main([*argv, "--notebooks", str(notebooks), "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_list_shows_series_notebooks_parameters(notebooks, capsys):
    assert run_main(["--list", "--notebooks", str(notebooks)]) == 0
    text = capsys.readouterr().out
    for expected in (
        "alpha",
        "01_metrics.ipynb",
        "scale = 2   [paper: 10]",
        "width = 3   [paper: 7]",
        "beta",
        "gamma",
        "zeta",
        "size = 8",
        "a made-up paper",
    ):
        assert expected in text


def test_paper_profile_parameters_and_precedence(notebooks, tmp_path):
    jobs = plan_batch(["alpha"], "paper", notebooks_root=notebooks, out_root=tmp_path)
    assert [j.notebook.name for j in jobs] == ["01_metrics.ipynb", "02_tables.ipynb"]
    first, second = (j.parameters for j in jobs)
    assert first == {
        "scale": 10,
        "profile": "paper",
        "seed": 11,
        "output_dir": str((tmp_path / "alpha" / "paper").resolve()),
    }
    assert second["width"] == 7 and "scale" not in second
    assert jobs[0].execution_timeout == 120
    over = plan_batch(
        ["alpha"], "paper", notebooks_root=notebooks, out_root=tmp_path, sets={"scale": "5"}, seed=1
    )
    assert over[0].parameters["scale"] == 5 and over[0].parameters["seed"] == 1
    assert over[0].key != jobs[0].key  # other parameters: not skipped on re-run
    smoke = plan_batch(["all"], "smoke", notebooks_root=notebooks, out_root=tmp_path)
    assert [j.series for j in smoke] == ["alpha", "alpha", "beta", "gamma", "zeta"]
    assert smoke[0].parameters == {
        "profile": "smoke",
        "seed": 0,
        "output_dir": str((tmp_path / "alpha" / "smoke").resolve()),
    }


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("parameterz: {}\n", "unknown keys ['parameterz']"),
        ("parameters: {nosuch: 1}\n", "declared by no notebook"),
        ("notebooks:\n  09_missing.ipynb: {scale: 1}\n", "no notebook '09_missing.ipynb'"),
        ("notebooks:\n  01_metrics.ipynb: {width: 1}\n", "declares no parameters ['width']"),
        ("parameters: {seed: 1}\n", "use the top-level 'seed:' key"),
        ("parameters: {scale: fast}\n", "paper.yaml scale='fast': expected a int"),
    ],
)
def test_bad_paper_yaml_is_an_error(tmp_path, yaml_text, message):
    root = tmp_path / "nbs"
    _nb(root / "alpha" / "01_metrics.ipynb", {"scale": 2}, ["import maskstyle", "assert 1"])
    (root / "alpha" / "paper.yaml").write_text(yaml_text)
    with pytest.raises(WorkbookError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan_batch(["alpha"], "paper", notebooks_root=root, out_root=tmp_path / "out")


def test_notebook_without_runner_parameters_is_an_error(tmp_path):
    root = tmp_path / "nbs"
    nb = new_notebook(
        "T",
        paper="p",
        section="s",
        shows="x",
        parameters=BASE,
        cells=["import maskstyle", "assert 1"],
    )
    nb.cells[1].source = "seed = 0\nprofile = 'smoke'"
    write_notebook(nb, root / "s" / "01.ipynb")
    _nb(root / "t" / "01.ipynb", {}, ["import maskstyle", "assert 1"])
    with pytest.raises(WorkbookError, match=r"must declare \['output_dir'\]"):
        plan_batch(["s"], "smoke", notebooks_root=root, out_root=tmp_path / "out")
    assert len(plan_batch(["t"], "smoke", notebooks_root=root, out_root=tmp_path)) == 1
    assert run_main(["--list", "--notebooks", str(root)]) == 0  # lists the others
    with pytest.raises(WorkbookError, match="output_dir"):
        plan_batch(["all"], "smoke", notebooks_root=root, out_root=tmp_path / "out")


def test_parse_sets():
    assert parse_sets(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(WorkbookError):
        parse_sets(["1a=3"])


# --- skip / fail-fast bookkeeping with a fake executor (no kernels) -------------------------


def test_skip_logic_with_fake_executor(notebooks, tmp_path):
    calls: list[str] = []

    def fake(job):
        calls.append(f"{job.series}/{job.notebook.name}")
        job.executed_path.parent.mkdir(parents=True, exist_ok=True)
        job.executed_path.write_text("{}")
        if job.series == "beta":
            raise RuntimeError("fake failure")

    def run(series, **kw):
        jobs = plan_batch(
            series, "smoke", notebooks_root=notebooks, out_root=tmp_path, sets=kw.pop("sets", None)
        )
        return run_batch(jobs, progress=False, execute=fake, out_root=tmp_path, **kw)

    report = run(["alpha", "beta", "gamma"])
    assert [r.status for r in report.results] == [OK, OK, FAILED, OK] and not report.ok
    assert calls == [
        "alpha/01_metrics.ipynb",
        "alpha/02_tables.ipynb",
        "beta/01_fails.ipynb",
        "gamma/01_ok.ipynb",
    ]
    calls.clear()
    report = run(["alpha", "beta", "gamma"])  # finished ones skipped, the failed one retried
    assert calls == ["beta/01_fails.ipynb"]
    assert [r.ran for r in report.results] == [False, False, True, False]
    calls.clear()
    (tmp_path / "alpha/smoke/executed/state.json").write_text(
        json.dumps(
            {
                **json.loads((tmp_path / "alpha/smoke/executed/state.json").read_text()),
                "01_metrics.ipynb": {"status": "interrupted"},
            }
        )
    )
    run(["alpha"])  # interrupted first notebook: it and every later one of the series re-run
    assert calls == ["alpha/01_metrics.ipynb", "alpha/02_tables.ipynb"]
    calls.clear()
    run(["alpha"], sets={"width": "4"})  # changed parameter: that notebook re-runs
    assert calls == ["alpha/02_tables.ipynb"]
    calls.clear()
    report = run(["beta", "gamma", "alpha"], fail_fast=True, force=True)
    assert calls == ["beta/01_fails.ipynb"]
    assert [r.status for r in report.results] == [FAILED, NOT_RUN, NOT_RUN, NOT_RUN]


def test_root_cli_has_the_run_command(notebooks, capsys):
    from maskstyle.cli import main

    assert main(["run", "--list", "--notebooks", str(notebooks)]) == 0
    assert "01_metrics.ipynb" in capsys.readouterr().out


def test_cpu_profile_reads_cpu_yaml_beside_paper_yaml(notebooks, tmp_path):
    (notebooks / "alpha" / "cpu.yaml").write_text(
        "paper: a made-up paper, face world at 64 px\nexecution_timeout: {cpu: 600}\n"
        "parameters: {scale: 3}\n"
    )
    jobs = plan_batch(["alpha"], "cpu", notebooks_root=notebooks, out_root=tmp_path)
    assert jobs[0].parameters["scale"] == 3 and jobs[0].parameters["profile"] == "cpu"
    assert jobs[0].parameters["output_dir"] == str((tmp_path / "alpha" / "cpu").resolve())
    assert jobs[0].execution_timeout == 600
    paper = plan_batch(["alpha"], "paper", notebooks_root=notebooks, out_root=tmp_path)
    assert paper[0].parameters["scale"] == 10  # paper.yaml is untouched by cpu.yaml
    # a series without cpu.yaml runs its defaults under the cpu profile
    gamma = plan_batch(["gamma"], "cpu", notebooks_root=notebooks, out_root=tmp_path)
    assert gamma[0].parameters["profile"] == "cpu"


def test_bad_cpu_yaml_names_its_file(tmp_path):
    root = tmp_path / "nbs"
    _nb(root / "alpha" / "01_metrics.ipynb", {"scale": 2}, ["import maskstyle", "assert 1"])
    (root / "alpha" / "cpu.yaml").write_text("parameters: {scale: fast}\n")
    with pytest.raises(WorkbookError, match="cpu.yaml scale='fast'"):
        plan_batch(["alpha"], "cpu", notebooks_root=root, out_root=tmp_path / "out")
