"""`convsuite atari play|games|random`: a hand-made run played and recorded, the games list, the baseline."""

import json
import re

import numpy as np
import pytest

from convsuite.common import cli
from convsuite.common.errors import ConvsuiteError
from tests.requirements import require

require("ale_py", "atari")
cv2 = require("cv2", "atari")


@pytest.fixture(scope="module")
def pong_run(tmp_path_factory):
    """A run directory as `convsuite train atari` leaves it: config.toml and an untrained model.keras."""
    import keras

    from convsuite.common.checkpoint import atomic_write_text
    from convsuite.common.config import to_toml
    from convsuite.suites.atari.config import EXPERIMENTS
    from convsuite.suites.atari.models import build_model

    experiment = EXPERIMENTS["dqn-pong"]()
    experiment.agent.total_steps, experiment.agent.replay_size, experiment.agent.replay_start = 100, 100, 50
    run = tmp_path_factory.mktemp("runs") / "dqn-pong"
    run.mkdir()
    atomic_write_text(run / "config.toml", to_toml(experiment))
    model = build_model(experiment, 6, (4, 84, 84))
    assert isinstance(model, keras.Model)
    model.save(run / "model.keras")
    return run


def _steps(out: str) -> list[int]:
    return [int(n) for n in re.findall(r"episode \d+/\d+: score -?[\d.]+, (\d+) steps", out)]


def test_play_records_an_mp4_with_one_frame_per_step(pong_run, tmp_path, capsys):
    video = tmp_path / "pong.mp4"
    code = cli.run(["atari", "play", "--checkpoint", str(pong_run), "--episodes", "2", "--max-minutes", "0.05",
                    "--record", str(video)])
    out = capsys.readouterr().out
    steps = _steps(out)
    assert code == 0 and len(steps) == 2 and all(0 < n <= 180 // 4 for n in steps)
    assert "cut after 0.05 minutes" in out and "the paper's DQN 18.9 +- 1.3" in out
    assert f"recorded {sum(steps)} frames" in out
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == sum(steps) and frames[0].shape == (210, 160, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["pong.mp4"]  # no temporary file left behind


def test_play_records_a_gif_lasting_one_frame_time_per_step(pong_run, tmp_path, capsys):
    from PIL import Image

    gif = tmp_path / "pong.gif"
    assert cli.run(["atari", "play", "--checkpoint", str(pong_run), "--max-minutes", "0.05", "--epsilon", "1",
                    "--seed", "1", "--record", str(gif)]) == 0
    (steps,) = _steps(capsys.readouterr().out)
    with Image.open(gif) as image:
        assert image.size == (160, 210) and 1 <= image.n_frames <= steps
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
    # 70 ms a step (15 frames/s in whole hundredths); identical consecutive frames are merged, their time kept
    assert sum(durations) == 70 * steps


def test_playing_a_game_with_another_action_set_is_a_clear_error(pong_run, tmp_path):
    video = tmp_path / "breakout.mp4"
    with pytest.raises(ConvsuiteError, match=r"was trained on Pong \(6 actions\); Breakout has 4"):
        cli.run(["atari", "play", "--checkpoint", str(pong_run), "--game", "Breakout", "--record", str(video)])
    assert not list(tmp_path.iterdir())


def test_play_refuses_an_unknown_video_format_and_a_missing_run(tmp_path):
    with pytest.raises(ConvsuiteError, match=r"must end in \.mp4 or \.gif"):
        cli.run(["atari", "play", "--checkpoint", str(tmp_path), "--record", str(tmp_path / "x.avi")])
    with pytest.raises(ConvsuiteError, match="does not exist"):
        cli.run(["atari", "play", "--checkpoint", str(tmp_path / "missing")])


def test_games_lists_pong_with_the_papers_scores(capsys):
    assert cli.run(["atari", "games"]) == 0
    out = capsys.readouterr().out
    pong = next(line for line in out.splitlines() if line.startswith("Pong "))
    assert pong.split() == ["Pong", "-20.7", "9.3", "18.9", "+-", "1.3"]
    assert "Tetris" in out.split() and "49 with the paper's scores" in out
    assert cli.run(["atari", "games", "--paper", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 49 and {"game": "Breakout", "random": 1.7, "human": 31.8, "dqn": 401.2,
                                "dqn_std": 26.9} in rows


def test_random_scores_the_random_policy_under_the_protocol(capsys):
    assert cli.run(["atari", "random", "--game", "pong", "--episodes", "3", "--max-minutes", "0.1",
                    "--num-envs", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["game"] == "Pong" and result["random_episodes"] == 3 and len(result["random_returns"]) == 3
    assert result["paper_random"] == -20.7
    assert result["random_mean_return"] == pytest.approx(np.mean(result["random_returns"]))


def test_the_commands_evaluation_and_scores_import_no_keras():
    import subprocess
    import sys

    code = ("import sys; import convsuite.suites.atari.commands, convsuite.suites.atari.evaluation, "
            "convsuite.suites.atari.scores; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
