"""The house's import contract (pyproject.toml [tool.importlinter]) holds,
and it would catch a module importing upward or two modules importing each other."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "audit", "accounts", "notifications", "reports", "commission", "web"]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(root), "PATH": ""})


@pytest.fixture
def tree(tmp_path) -> Path:
    """The apps' Python sources and the contract, in a scratch copy."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("*.pyc", "__pycache__", "static",
                                                                                   "templates", "locale"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_apps_import_downward_only_and_without_cycles():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contract_refuses_the_trail_importing_an_app_above_it(tree):
    with open(tree / "audit" / "models.py", "a") as module:
        module.write("\nfrom commission import models as _upward  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "audit is not allowed to import commission" in result.stdout


def test_the_contract_refuses_two_modules_of_an_app_importing_each_other(tree):
    with open(tree / "commission" / "tally.py", "a") as module:
        module.write("\nfrom commission import selectors as _cycle  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "No cycles are allowed in commission" in result.stdout
