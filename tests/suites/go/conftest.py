"""Shared Go fixtures: a small set of real GNU Go self-play games, made once per test session."""

import shutil
from pathlib import Path

import pytest

from convsuite.suites.go.config import GoDataConfig


def gnugo_installed() -> bool:
    return bool(shutil.which("gnugo") or Path("/usr/games/gnugo").exists())


needs_gnugo = pytest.mark.skipif(not gnugo_installed(),
                                 reason="GNU Go is not installed (scripts/setup.sh installs the Debian package gnugo)")


@pytest.fixture(scope="session")
def selfplay_games(tmp_path_factory) -> Path:
    """80 9x9 games of GNU Go (level 0) against itself after 4 random moves, as SGF files."""
    if not gnugo_installed():
        pytest.skip("GNU Go is not installed (scripts/setup.sh installs the Debian package gnugo)")
    from convsuite.suites.go.data import generate_selfplay

    cfg = GoDataConfig(source="gnugo-selfplay", board_size=9, games=80, gnugo_level=0, random_opening=4,
                       data_dir=str(tmp_path_factory.mktemp("godata")))
    return generate_selfplay(cfg, seed=0, progress=False)
