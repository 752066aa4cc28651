"""The evolutionary programming of Chellapilla & Fogel 2001: mutation, the game schedule, points, selection."""

import numpy as np
import pytest

from convsuite.common.pool import WorkerPool
from convsuite.suites.checkers import evolution as evo
from convsuite.suites.checkers.board import BLACK, WHITE
from convsuite.suites.checkers.network import WEIGHT_COUNT


def test_the_initial_population_is_the_papers():
    population = evo.initial_population(15, np.random.default_rng(0))
    assert population.weights.shape == population.steps.shape == (15, WEIGHT_COUNT)
    assert np.abs(population.weights).max() <= 0.2 and np.abs(population.weights).max() > 0.19
    assert np.all(population.steps == 0.05) and np.all(population.kings == 2.0)


def test_tau_is_one_over_the_root_of_two_root_n():
    assert evo.paper_tau(5046) == pytest.approx(1 / np.sqrt(2 * np.sqrt(5046)))
    assert evo.paper_tau() == pytest.approx(0.0839, abs=1e-4)


def test_self_adaptive_offspring_mutate_every_step_size_and_weight():
    parents = evo.initial_population(15, np.random.default_rng(0))
    children = evo.offspring(parents, np.random.default_rng(1))
    log_ratio = np.log(children.steps / parents.steps)
    assert np.all(log_ratio != 0)
    assert log_ratio.std() == pytest.approx(evo.paper_tau(), rel=0.02)  # s' = s exp(tau N(0,1))
    change = (children.weights - parents.weights) / children.steps  # w' = w + s' N(0,1)
    assert change.std() == pytest.approx(1.0, rel=0.02) and abs(change.mean()) < 0.01
    assert set(np.round(children.kings - parents.kings, 6)) <= {-0.1, 0.0, 0.1}
    assert parents.weights.shape == children.weights.shape


def test_king_values_stay_within_one_and_three():
    parents = evo.initial_population(4, np.random.default_rng(0), king_value=2.0)
    parents.kings[:] = [1.0, 1.05, 2.95, 3.0]
    for seed in range(20):
        kings = evo.offspring(parents, np.random.default_rng(seed)).kings
        assert np.all((kings >= 1.0) & (kings <= 3.0))


def test_fixed_step_mutation_uses_one_step_size():
    parents = evo.initial_population(3, np.random.default_rng(0))
    children = evo.offspring(parents, np.random.default_rng(1), self_adaptive=False, fixed_step=0.01)
    assert np.all(children.steps == 0.01)
    assert np.std(children.weights - parents.weights) == pytest.approx(0.01, rel=0.05)


def test_every_player_is_black_five_times_and_never_meets_itself():
    pairs = evo.schedule_games(30, 5, np.random.default_rng(0))
    assert pairs.shape == (150, 2)
    assert np.all(np.bincount(pairs[:, 0], minlength=30) == 5)
    assert np.all(pairs[:, 0] != pairs[:, 1])
    assert len(set(pairs[:, 1].tolist())) > 20  # opponents drawn from the whole population


def test_both_players_get_points_win_one_draw_zero_loss_minus_two():
    pairs = np.array([[0, 1], [1, 2], [2, 0]])
    points = evo.game_points(pairs, np.array([BLACK, WHITE, -1]), 3)
    assert points.tolist() == [1.0, -2.0 + -2.0, 1.0]


def test_survivors_are_the_best_with_ties_to_the_lower_index():
    assert evo.survivors(np.array([1.0, 3.0, 3.0, -2.0, 0.0]), 3).tolist() == [1, 2, 0]


def _items(depth=1, count=4):
    population = evo.initial_population(4, np.random.default_rng(0))
    pairs = evo.schedule_games(4, 1, np.random.default_rng(1))[:count]
    return evo.generation_games(population, pairs, np.arange(count) + 7, depth, True, 30)


def test_a_game_between_networks_ends_and_repeats_exactly_with_its_seed():
    item = _items()[0]
    winner, plies = evo.play_network_game(item)
    assert winner in (BLACK, WHITE, -1) and 0 < plies <= 60
    assert evo.play_network_game(item) == (winner, plies)


def test_a_generations_games_give_the_same_results_inline_and_on_two_processes():
    items = _items()
    with WorkerPool(1) as inline:
        expected = inline.map(evo.play_network_game, items)
    with WorkerPool(2) as processes:
        assert processes.map(evo.play_network_game, items) == expected
