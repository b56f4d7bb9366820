"""The conda environment file installs what pyproject.toml pins, nothing else."""

from __future__ import annotations

import tomllib

import yaml

from tests.conftest import REPO


def test_environment_yml_installs_the_project_with_pyproject_pins():
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    # conda gives the interpreter the project supports, and pip
    assert sorted(conda) == ["pip", "python=3.11"]
    assert project["project"]["requires-python"].startswith(">=3.11")
    # pip installs the project itself, so every library comes at pyproject's pin
    assert pip == [{"pip": ["-e ."]}]
    assert all("==" in dep for dep in project["project"]["dependencies"])
