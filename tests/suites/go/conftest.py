"""Shared Go fixtures: a small set of real GNU Go self-play games, made once per test session."""

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
    """80 9x9 games of GNU Go (level 0) against itself after 4 random moves, as SGF files."""
    if not gnugo_installed():
        pytest.fail(GNUGO_MISSING)
    from convsuite.suites.go.data import generate_selfplay

    cfg = GoDataConfig(source="gnugo-selfplay", board_size=9, games=80, gnugo_level=0, random_opening=4,
                       data_dir=str(tmp_path_factory.mktemp("godata")))
    return generate_selfplay(cfg, seed=0, progress=False)
