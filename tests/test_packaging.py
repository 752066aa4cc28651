"""The distribution: a regular (non-editable) install exposes the same import paths."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_regular_install_maps_common_and_suites_under_convsuite(tmp_path):
    target = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "--target", str(target), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    probe = ("import convsuite.common.config as c, convsuite.suites.image.config as i, convsuite.common.cli as cli; "
             "print(c.__file__); print(i.__file__)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert all(line.startswith(str(target)) for line in result.stdout.split())
    assert (target / "bin" / "convsuite").exists()
