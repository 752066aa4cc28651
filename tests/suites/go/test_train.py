"""Go training on real GNU Go games: policy nets against the uniform-random-legal-move
baseline on held-out games, the value net against the majority colour, game-level splits,
and the rules engine against GNU Go's own replay of real games."""

import json
from pathlib import Path

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go import data as data_lib
from convsuite.suites.go import train as go_train
from convsuite.suites.go.board import BLACK, WHITE, to_gtp
from convsuite.suites.go.config import EXPERIMENTS, GoDataConfig
from convsuite.suites.go.sgf import SkipLog, iter_games, replay
from tests.suites.go.conftest import needs_gnugo


def small_policy(run_dir, source, name="maddison-gnugo9", **overrides):
    experiment = EXPERIMENTS[name]()
    experiment.data.source = str(source)
    if experiment.model.name != "clark-storkey":  # its layers are fixed by the paper
        experiment.model.depth, experiment.model.filters = 6, 32
    experiment.trainer.epochs = 4
    experiment.trainer.batch_size = 64
    experiment.trainer.progress = False
    experiment.trainer.run_dir = str(run_dir)
    for key, value in overrides.items():
        section, field = key.split("__")
        setattr(getattr(experiment, section), field, value)
    return experiment


@pytest.fixture(scope="module")
def policy_run(tmp_path_factory, selfplay_games):
    run_dir = tmp_path_factory.mktemp("go") / "policy"
    experiment = small_policy(run_dir, selfplay_games, data__data_dir=str(run_dir.parent / "cache"))
    return run_dir, experiment, go_train.train(experiment)


def test_policy_beats_the_uniform_random_legal_move_by_a_wide_margin(policy_run):
    _, _, metrics = policy_run
    baseline = metrics["baseline_uniform_legal_top1"]
    assert 0.01 < baseline < 0.05  # about 1 in 40 legal points on these 9x9 positions
    assert metrics["policy_top1"] > max(4 * baseline, baseline + 0.08), metrics
    assert metrics["policy_top5"] > max(2 * metrics["baseline_uniform_legal_top5"], 0.3), metrics
    assert metrics["test_accuracy"] == pytest.approx(metrics["policy_top1"], abs=1e-6)
    assert sum(v["positions"] for v in metrics["accuracy_by_move_number"].values()) == metrics["test_positions"]


def test_splits_are_by_game_and_evaluate_reproduces_the_test_numbers(policy_run):
    run_dir, _, metrics = policy_run
    splits = json.loads((run_dir / "splits.json").read_text())
    train, val, test = (set(splits[k]) for k in ("train", "val", "test"))
    assert train and val and test and not (train & test) and not (train & val) and not (val & test)
    assert len(train) + len(val) + len(test) == metrics["games"] == 80
    evaluated = go_train.evaluate(run_dir)
    assert evaluated["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert evaluated["policy_top5"] == pytest.approx(metrics["policy_top5"], abs=1e-6)


def test_evaluate_on_another_source_takes_all_its_games_as_test_games(policy_run, tmp_path):
    """`convsuite evaluate go --checkpoint RUN --set data.source=OTHER`: every game of the other
    archive is a test game; its numbers come with the same baselines."""
    run_dir, _, _ = policy_run
    splits = json.loads((run_dir / "splits.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    source = Path(go_train.experiment_from_run(run_dir).data.source)
    for name in splits["test"][:6]:  # six games the run never trained on, as "another archive"
        (other / name).write_bytes((source / name).read_bytes())
    evaluated = go_train.evaluate(run_dir, overrides=[f"data.source={other}"])
    assert evaluated["games"] == evaluated["test_games"] == 6 and evaluated["trained_on"] == str(source)
    assert evaluated["policy_top1"] > 2 * evaluated["baseline_uniform_legal_top1"]
    with pytest.raises(ConvsuiteError, match="board size"):
        go_train.evaluate(run_dir, overrides=[f"data.source={other}", "data.board_size=13"])


def test_resumed_run_continues_from_its_checkpoint(policy_run, tmp_path):
    run_dir, experiment, metrics = policy_run
    experiment.trainer.epochs = 5
    resumed = go_train.train(experiment)
    assert resumed["epochs"] == 5 and resumed["train_examples"] == metrics["train_examples"]


def test_clark_storkey_net_learns_too(selfplay_games, tmp_path):
    """The paper's net (no normalization) first sits near chance for ~1,000 steps, so it
    gets more of them here than the 3x3 net; the bar is lower for the same reason."""
    experiment = small_policy(tmp_path / "cs", selfplay_games, name="clark-storkey-gnugo9",
                              data__data_dir=str(tmp_path / "cache"), trainer__epochs=16, trainer__batch_size=32)
    metrics = go_train.train(experiment)
    assert metrics["policy_top1"] > 2 * metrics["baseline_uniform_legal_top1"], metrics
    assert metrics["policy_top5"] > 1.5 * metrics["baseline_uniform_legal_top5"], metrics


def test_value_net_trains_on_game_results(selfplay_games, tmp_path):
    experiment = small_policy(tmp_path / "value", selfplay_games, name="value-gnugo9",
                              data__data_dir=str(tmp_path / "cache"))
    experiment.model.depth, experiment.model.filters, experiment.model.value_hidden = 4, 16, 32
    metrics = go_train.train(experiment)
    assert "baseline_majority_colour_sign_accuracy" in metrics and 0 <= metrics["test_sign_accuracy"] <= 1
    assert metrics["train_examples"] <= 8 * metrics["train_games"]  # value_positions_per_game=8
    log = np.genfromtxt(tmp_path / "value" / "log.csv", delimiter=",", names=True)
    assert log["loss"][-1] < log["loss"][0]


def test_positions_skip_random_openings_and_passes(selfplay_games):
    games, skip = data_lib.load_games(GoDataConfig(source=str(selfplay_games), board_size=9))
    assert skip.skipped == 0 and len(games) == 80
    record = games[0]
    assert data_lib.random_opening_length(record) == 4
    positions = data_lib.extract_positions([record], "maddison", 9)
    played = [(n, m) for n, (_, m) in enumerate(record.moves) if m >= 0 and n >= 4]
    assert positions.move_numbers.tolist() == [n for n, _ in played]
    assert positions.moves.tolist() == [m for _, m in played]
    # the label is always a legal point of the position it belongs to
    legal = positions.planes[..., 14].reshape(len(positions), -1)
    assert legal[np.arange(len(positions)), positions.moves].all()
    assert set(np.unique(positions.results)) <= {-1.0, 0.0, 1.0}


def test_missing_sources_say_how_to_get_them(tmp_path):
    with pytest.raises(ConvsuiteError, match="does not exist"):
        data_lib.game_sources(GoDataConfig(source=str(tmp_path / "nowhere")))
    with pytest.raises(ConvsuiteError, match="scripts/setup.sh .*apt-get source --download-only gnugo"):
        data_lib.game_sources(GoDataConfig(source="gnugo-regression", data_dir=str(tmp_path)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConvsuiteError, match="no usable 9x9 games"):
        data_lib.load_games(GoDataConfig(source=str(tmp_path / "empty"), board_size=9))


def test_inconsistent_experiments_are_refused():
    experiment = EXPERIMENTS["value-gnugo9"]()
    experiment.data.feature_set = "maddison"
    with pytest.raises(ConvsuiteError, match="alphago-value"):
        experiment.validate()
    experiment = EXPERIMENTS["maddison-gnugo9"]()
    experiment.model.name = "resnet"
    with pytest.raises(ConvsuiteError, match="model.name"):
        experiment.validate()


@needs_gnugo
def test_engine_reproduces_the_final_position_of_real_games_as_gnu_go_does():
    """Replay real 19x19 games from GNU Go's regression suite with our engine and with GNU Go
    (`loadsgf`), and compare every stone of the final position."""
    import tarfile
    import tempfile
    from pathlib import Path

    from convsuite.suites.go.gtp_client import GtpClient

    archive = data_lib.gnugo_regression_archive()  # scripts/setup.sh fetches it; missing fails with how to get it
    skip = SkipLog()
    games = []
    for game in iter_games(archive, size=19, min_moves=150, skip=skip):
        games.append(game)
        if len(games) == 25:
            break
    assert len(games) == 25, skip.summary()
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive) as tar, \
            GtpClient([data_lib.gnugo_program(), "--mode", "gtp"]) as gnugo:
        for record in games:
            member = record.name.split("#")[0]
            path = Path(tmp) / "game.sgf"
            path.write_bytes(tar.extractfile(member).read())
            gnugo.send(f"loadsgf {path} {len(record.moves) + 1}")
            board = replay(record)
            for color, word in ((BLACK, "black"), (WHITE, "white")):
                theirs = set(gnugo.send(f"list_stones {word}").split())
                ours = {to_gtp(int(p), 19) for p in np.flatnonzero(board.stones == color)}
                assert ours == theirs, f"{record.name}: {word} stones differ"
