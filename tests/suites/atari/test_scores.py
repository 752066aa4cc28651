"""The Nature paper's reference scores and the human-normalised score."""

import pytest

from convsuite.suites.atari.scores import PAPER_SCORES, human_normalized, paper_score


def test_the_random_policy_scores_0_and_the_human_tester_100_on_every_game():
    for game, reference in PAPER_SCORES.items():
        assert human_normalized(game, reference.random) == pytest.approx(0.0, abs=1e-9)
        assert human_normalized(game, reference.human) == pytest.approx(100.0)


def test_pong_and_breakout_carry_the_papers_values():
    pong, breakout = PAPER_SCORES["Pong"], PAPER_SCORES["Breakout"]
    assert (pong.random, pong.human, pong.dqn, pong.dqn_std) == (-20.7, 9.3, 18.9, 1.3)
    assert (breakout.random, breakout.human, breakout.dqn, breakout.dqn_std) == (1.7, 31.8, 401.2, 26.9)
    # the paper's last column: DQN relative to the human tester
    assert human_normalized("Pong", 18.9) == pytest.approx(132.0, abs=0.05)
    assert human_normalized("Breakout", 401.2) == pytest.approx(1327.2, abs=0.05)
    assert human_normalized("Pong", -5.7) == pytest.approx(50.0)


def test_the_table_has_the_papers_49_games_with_positive_human_margins():
    assert len(PAPER_SCORES) == 49
    assert all(reference.human > reference.random for reference in PAPER_SCORES.values())
    assert PAPER_SCORES["SpaceInvaders"].dqn_normalized == pytest.approx(121.5, abs=0.05)
    assert PAPER_SCORES["Seaquest"].dqn_normalized == pytest.approx(25.9, abs=0.05)


def test_a_game_without_references_gives_none():
    assert human_normalized("Tetris", 10.0) is None
    assert human_normalized("CartPole-v1", 500.0) is None
    assert paper_score("NoSuchGame") is None


def test_game_names_are_accepted_in_the_spellings_the_environments_take():
    for spelling in ("SpaceInvaders", "space_invaders", "spaceinvaders", "ALE/SpaceInvaders-v5",
                     "SpaceInvadersNoFrameskip-v4"):
        assert paper_score(spelling) is PAPER_SCORES["SpaceInvaders"], spelling
