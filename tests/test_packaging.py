"""The install story: pyproject, environment.yml, constraints and CI agree."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = _pyproject()
    wanted = {_name(r) for r in project["project"]["dependencies"]}
    wanted |= {_name(r) for r in project["project"]["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_names = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    assert "python" in conda_names and "pip" in conda_names
    env_names = {_name(r) for r in pip_section}
    # protobuf is a constraint of mediapipe (in constraints.txt), listed for conda users too
    assert env_names - {"protobuf"} == wanted, (
        f"only in environment.yml: {sorted(env_names - wanted - {'protobuf'})}; "
        f"only in pyproject.toml: {sorted(wanted - env_names)}"
    )
    assert env["dependencies"][0] == "python=3.11"


def test_no_deps_packages_are_installed_separately_everywhere():
    no_deps = _pyproject()["tool"]["maskstyle"]["no-deps"]
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    env_text = (ROOT / "environment.yml").read_text()
    for requirement in no_deps:
        assert f"--no-deps {requirement}" in setup
        assert requirement in env_text


def test_constraints_pin_the_matching_torch_pair():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pins = {
        _name(line): line.strip() for line in lines if line.strip() and not line.startswith("#")
    }
    assert pins["torch"] == "torch==2.13.0"
    assert pins["torchvision"] == "torchvision==0.28.0"
    assert pins["mediapipe"] == "mediapipe==0.10.9"


def test_only_one_opencv_package_is_installed():
    from importlib import metadata

    names = {(d.metadata["Name"] or "").lower() for d in metadata.distributions()}
    opencv = sorted(n for n in names if n.startswith("opencv"))
    assert opencv == ["opencv-contrib-python"], (
        f"expected only mediapipe's cv2 package, got {opencv}"
    )


def test_ci_runs_exactly_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme.split("## Quick start", 1)[1], re.S)[:2]
    assert len(commands) == 2, "README's Quick start must hold two bash blocks"
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command.strip() in ci, f".ci/run does not run README's command: {command!r}"


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "maskstyle.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("maskstyle ")
    assert _pyproject()["project"]["scripts"]["maskstyle"] == "maskstyle.cli:main"
