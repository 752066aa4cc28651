"""A directory nobody can write to, root included (tests run as root in containers)."""

import contextlib
import os
import shutil
import subprocess

import pytest


@contextlib.contextmanager
def read_only_directory(path):
    """``path`` (created) made unwritable: mode 0555, and for root the immutable attribute."""
    os.makedirs(path, exist_ok=True)
    immutable = os.geteuid() == 0
    if immutable:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
            pytest.skip("running as root on a file system without chattr +i: no directory is unwritable")
    else:
        os.chmod(path, 0o555)
    try:
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            os.chmod(path, 0o755)
