"""Shared Go fixtures: a small set of real GNU Go self-play games, made once per test session."""

import os
import shutil
from pathlib import Path

import pytest

from convsuite.suites.go.config import GoDataConfig


def gnugo_installed() -> bool:
    return bool(shutil.which("gnugo") or Path("/usr/games/gnugo").exists())


GNUGO_MISSING = "GNU Go is not installed; run scripts/setup.sh (it installs the Debian package gnugo)"
ARCHIVE_MISSING = ("data/go/gnugo_3.8.orig.tar.gz is missing; run scripts/setup.sh (it fetches GNU Go's Debian "
                   "source archive)")


@pytest.fixture
def gnugo_required():
    """The README's test command installs GNU Go first, so its absence is a failure, not a skip."""
    if not gnugo_installed():
        pytest.fail(GNUGO_MISSING)


needs_gnugo = pytest.mark.usefixtures("gnugo_required")


@pytest.fixture(scope="session")
def selfplay_games(tmp_path_factory) -> Path:
    """80 9x9 games of GNU Go (level 0) against itself after 4 random moves, as SGF files.

    Made once per test run: xdist workers share one folder (under the run's common temporary
    directory) and take turns with a file lock; generation resumes, so a worker that comes
    second finds the games made."""
    if not gnugo_installed():
        pytest.fail(GNUGO_MISSING)
    import fcntl

    from convsuite.suites.go.data import generate_selfplay

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    folder = shared / "go-selfplay-data"
    folder.mkdir(exist_ok=True)
    cfg = GoDataConfig(source="gnugo-selfplay", board_size=9, games=80, gnugo_level=0, random_opening=4,
                       data_dir=str(folder))
    with open(shared / "go-selfplay-data.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return generate_selfplay(cfg, seed=0, progress=False)
