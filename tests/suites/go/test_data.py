"""Go data on the worker pool: self-play games and position shards depend only on their seeds
(not on how many processes made them), and an interrupted generation resumes with what is missing."""

import numpy as np

from convsuite.suites.go import data as data_lib
from convsuite.suites.go.config import GoDataConfig
from tests.suites.go.conftest import needs_gnugo


def selfplay_config(data_dir, workers: int) -> GoDataConfig:
    return GoDataConfig(source="gnugo-selfplay", board_size=9, games=4, gnugo_level=0, random_opening=4,
                        workers=workers, data_dir=str(data_dir))


def sgf_texts(folder) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(folder.glob("*.sgf"))}


@needs_gnugo
def test_selfplay_games_depend_only_on_their_seeds_and_an_interrupted_generation_resumes(tmp_path):
    inline = sgf_texts(data_lib.generate_selfplay(selfplay_config(tmp_path / "inline", 1), seed=3, progress=False))
    folder = data_lib.generate_selfplay(selfplay_config(tmp_path / "pool", 2), seed=3, progress=False)
    assert sorted(inline) == [f"game_{i:05d}.sgf" for i in range(4)]
    assert sgf_texts(folder) == inline
    assert len(set(inline.values())) == 4  # the random openings make every game different

    # an interruption after some games: only the missing ones are played, and they come out the same
    (folder / "game_00002.sgf").unlink()
    kept = {name: (folder / name).stat().st_mtime_ns for name in inline if name != "game_00002.sgf"}
    data_lib.generate_selfplay(selfplay_config(tmp_path / "pool", 2), seed=3, progress=False)
    assert sgf_texts(folder) == inline
    assert {name: (folder / name).stat().st_mtime_ns for name in kept} == kept


def test_position_shards_are_the_same_from_processes_and_inline_and_a_missing_shard_is_rebuilt(
        selfplay_games, tmp_path):
    games, _ = data_lib.load_games(GoDataConfig(source=str(selfplay_games), board_size=9, max_games=12))

    def positions(data_dir, workers):
        cfg = GoDataConfig(board_size=9, shard_games=4, workers=workers, data_dir=str(data_dir))
        return data_lib.cached_positions(games, cfg, "test", seed=5, progress=False)

    inline, pooled = positions(tmp_path / "inline", 1), positions(tmp_path / "pool", 2)
    shards = sorted((tmp_path / "pool" / "go" / "positions").glob("test-*.npz"))
    assert len(shards) == 3 and len(inline) > 0
    for name in inline.ARRAYS:
        np.testing.assert_array_equal(getattr(pooled, name), getattr(inline, name))

    shards[1].unlink()
    rebuilt = positions(tmp_path / "pool", 2)
    assert shards[1].exists()
    for name in inline.ARRAYS:
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(inline, name))


@needs_gnugo
def test_selfplay_source_reads_exactly_data_games_whatever_else_the_folder_holds(tmp_path):
    """A value run asks for 2,000 games in the folder the default policy run (1,000) uses: the
    policy run must still read its own 1,000, or its numbers would depend on what ran before."""
    cfg = selfplay_config(tmp_path, 1)
    folder = data_lib.generate_selfplay(cfg, seed=3, progress=False)
    (folder / "game_00009.sgf").write_text((folder / "game_00000.sgf").read_text())  # another run's game
    cfg.games = 3
    games, _ = data_lib.load_games(cfg, seed=3)
    assert [g.name for g in games] == [f"game_{i:05d}.sgf" for i in range(3)]
