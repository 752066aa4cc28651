"""RUN/champions.npz: each generation's best network, written atomically, read with clear errors."""

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.checkers.champions import (CHAMPIONS_FILE, champion_generations, load_champion,
                                                 write_champions)
from convsuite.suites.checkers.network import WEIGHT_COUNT, random_weights


def _write(run_dir, generations=(0, 1, 2)):
    rng = np.random.default_rng(0)
    weights = random_weights(rng, len(generations))
    kings = 2.0 + 0.1 * np.arange(len(generations))
    write_champions(run_dir, list(generations), weights, kings)
    return weights, kings


def test_champions_round_trip_and_the_last_one_by_default(tmp_path):
    weights, kings = _write(tmp_path, (0, 5, 10))
    assert champion_generations(tmp_path) == [0, 5, 10]
    flat, king, generation = load_champion(tmp_path)
    assert generation == 10 and king == pytest.approx(kings[2])
    np.testing.assert_array_equal(flat, weights[2])
    flat, king, generation = load_champion(tmp_path, 5)
    assert (generation, king) == (5, pytest.approx(kings[1])) and flat.shape == (WEIGHT_COUNT,)
    np.testing.assert_array_equal(flat, weights[1])


def test_rewriting_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    _write(tmp_path, (0,))
    _write(tmp_path, (0, 1))
    assert champion_generations(tmp_path) == [0, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHAMPIONS_FILE]


def test_an_unknown_generation_names_the_range(tmp_path):
    _write(tmp_path, (0, 1, 2))
    with pytest.raises(ConvsuiteError, match="no champion of generation 7.*generations 0-2"):
        load_champion(tmp_path, 7)


def test_a_missing_run_directory_or_file_says_what_to_give(tmp_path):
    with pytest.raises(ConvsuiteError, match="does not exist; give a run directory written by `convsuite train"):
        load_champion(tmp_path / "nowhere")
    with pytest.raises(ConvsuiteError, match="no champions.npz; give a run directory written by `convsuite train"):
        champion_generations(tmp_path)


def test_a_truncated_file_is_one_error_and_is_left_as_it_was(tmp_path):
    _write(tmp_path)
    path = tmp_path / CHAMPIONS_FILE
    truncated = path.read_bytes()[:1000]
    path.write_bytes(truncated)
    with pytest.raises(ConvsuiteError, match="corrupt or truncated") as info:
        load_champion(tmp_path)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert path.read_bytes() == truncated
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(ConvsuiteError, match="corrupt or truncated"):
        champion_generations(tmp_path)


def test_a_file_with_other_arrays_is_refused(tmp_path):
    np.savez(tmp_path / CHAMPIONS_FILE, generation=np.arange(2), weights=np.zeros((2, 10)), king_value=np.ones(2))
    with pytest.raises(ConvsuiteError, match="does not hold champions"):
        load_champion(tmp_path)
    np.savez(tmp_path / CHAMPIONS_FILE, something=np.arange(2))
    with pytest.raises(ConvsuiteError, match="corrupt or truncated"):
        load_champion(tmp_path)


def test_writing_checks_shapes_and_order(tmp_path):
    with pytest.raises(ConvsuiteError, match="one weight vector"):
        write_champions(tmp_path, [0, 1], np.zeros((2, 5)), [2.0, 2.0])
    with pytest.raises(ConvsuiteError, match="increasing"):
        write_champions(tmp_path, [1, 0], np.zeros((2, WEIGHT_COUNT)), [2.0, 2.0])
    assert not (tmp_path / CHAMPIONS_FILE).exists()
