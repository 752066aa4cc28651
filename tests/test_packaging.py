"""The distribution: a regular (non-editable) install holds every package of the source tree
and exposes the same import paths as the editable install the set-up makes."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# Source folder -> the package it installs as (pyproject.toml's [tool.setuptools] package-dir).
SOURCE_PACKAGES = {"src/convsuite": "convsuite", "common": "convsuite.common", "suites": "convsuite.suites"}


def source_packages() -> set[str]:
    """Every package in the source tree: each folder with an __init__.py, as a dotted name."""
    names = set()
    for folder, package in SOURCE_PACKAGES.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                relative = init.parent.relative_to(base).parts
                names.add(".".join((package, *relative)))
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """convsuite installed once with pip into a private target folder (no dependencies)."""
    target = tmp_path_factory.mktemp("site")
    build = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "--disable-pip-version-check", "--target", str(target), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, ("pip could not build convsuite (setuptools >= 77 is needed; "
                                   "scripts/setup.sh installs it): " + build.stderr[-2000:])
    return target


def test_regular_install_maps_common_and_suites_under_convsuite(installed):
    probe = ("import convsuite, convsuite.common.config as c, convsuite.suites.image.config as i, "
             "convsuite.common.cli as cli; print(convsuite.__file__); print(c.__file__); print(i.__file__)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=installed.parent,
                            env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    paths = result.stdout.split()
    assert len(paths) == 3 and all(path.startswith(str(installed)) for path in paths), paths
    assert (installed / "bin" / "convsuite").exists()


def test_regular_install_holds_every_package_of_the_source_tree(installed):
    missing = sorted(name for name in source_packages()
                     if not (installed.joinpath(*name.split(".")) / "__init__.py").is_file())
    assert not missing, f"packages missing from the install (add them to pyproject.toml's packages): {missing}"


def test_distribution_declares_the_license_as_an_spdx_expression(installed):
    (metadata,) = installed.glob("convsuite-*.dist-info/METADATA")
    assert "License-Expression: Apache-2.0" in metadata.read_text().splitlines()
