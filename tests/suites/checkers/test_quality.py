"""Full-scale quality of the checkers suite (`pytest -m slow`): the fixed-seed `blondie24-short`
evolution (250 generations at 2 plies, about 20 minutes on two cores) judged at 4 plies in
100-game matches, each opening played with both colours."""

import pytest

from convsuite.common import registry
from convsuite.suites.checkers import train as checkers_train


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("checkers-quality") / "blondie24-short"
    experiment = registry.make_experiment("checkers", "blondie24-short",
                                          [f"trainer.run_dir={run_dir}", "trainer.progress=false"])
    return checkers_train.train(experiment)


@pytest.mark.slow
def test_the_evolved_network_beats_the_initial_random_population(short_run):
    assert short_run["initial_population_match"]["games"] >= 100
    assert short_run["score_vs_initial_population_ci95"][0] > 0.5


@pytest.mark.slow
def test_the_evolved_network_beats_the_piece_count_player_at_equal_depth(short_run):
    assert short_run["piece_count_match"]["games"] >= 100 and short_run["eval_depth"] == 4
    assert short_run["score_vs_piece_count"] > 0.5
    assert short_run["score_vs_piece_count"] > short_run["baseline_initial_score_vs_piece_count"]
