"""`convsuite atari ...`: watch (and record) a trained agent play, list the games with the Nature
paper's reference scores, score the uniform random policy under the paper's protocol.

Imports no Keras: ``play`` starts it once the backend is chosen; ``games`` and ``random`` never do.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from convsuite.common.errors import ConvsuiteError

HELP = ("play a trained DQN agent (and record it as MP4 or GIF), list the games with the Nature paper's scores, "
        "score the random policy under the paper's protocol")
RECORD_FPS = 15  # one frame per agent step: 60 emulator frames/s over a frame skip of 4 is real time
RECORD_FORMATS = (".mp4", ".gif")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="atari_command", required=True, metavar="{play,games,random}")

    play = commands.add_parser(
        "play", help="play episodes with a trained network, print each score, optionally record a video",
        description="Play a run's network under the paper's evaluation protocol (epsilon-greedy, up to "
                    "data.noop_max no-ops at the start, episodes cut after --max-minutes of play) and print each "
                    "episode's score and length. --record writes the colour screen after every action to an MP4 "
                    f"or GIF ({RECORD_FPS} frames/s: real time with a frame skip of 4).")
    play.add_argument("--checkpoint", metavar="RUN", required=True,
                      help="run directory written by `convsuite train atari`")
    play.add_argument("--which", choices=("model", "best"), default="model",
                      help="model: the last network (default); best: the best evaluated during training")
    play.add_argument("--game", default="",
                      help="play this game instead of the run's (it must have as many actions as the network)")
    play.add_argument("--episodes", type=int, default=1, help="episodes to play (default: %(default)s)")
    play.add_argument("--epsilon", type=float, default=0.05,
                      help="probability of a random action (default: %(default)s, the paper's evaluation)")
    play.add_argument("--seed", type=int, default=0,
                      help="seed of the no-op starts and the random actions (default: %(default)s)")
    play.add_argument("--max-minutes", type=float, default=5.0,
                      help="an episode stops after this much play at 60 frames/s (default: %(default)s, the "
                           "paper's 5 minutes)")
    play.add_argument("--record", metavar="FILE", default="",
                      help="write the episodes' colour frames to FILE.mp4 or FILE.gif (GIF: short clips; every "
                           "frame is kept in memory until the file is written)")
    play.add_argument("--backend", choices=("tensorflow", "jax"), help="Keras backend (default: $KERAS_BACKEND)")

    games = commands.add_parser(
        "games", help="the Atari games ale-py ships, with the Nature paper's random, human and DQN scores",
        description="List every game whose ROM ships with ale-py (the names data.game takes) and, for the 49 "
                    "games of Mnih et al. 2015, the paper's scores of the random policy, the human tester and "
                    "DQN (Extended Data Table 2).")
    games.add_argument("--paper", action="store_true", help="only the 49 games of the paper")
    games.add_argument("--json", action="store_true", help="print the list as one JSON line")

    random = commands.add_parser(
        "random", help="the uniform random policy's score under the paper's evaluation protocol (a baseline)",
        description="Play a game with uniformly random actions under the paper's protocol (up to 30 no-ops, "
                    "episodes of at most 5 minutes, the raw game score) and print the mean score next to the "
                    "paper's random-play reference.")
    random.add_argument("--game", default="Pong", help="the game (default: %(default)s; `convsuite atari games`)")
    random.add_argument("--episodes", type=int, default=30, help="episodes to play (default: %(default)s)")
    random.add_argument("--seed", type=int, default=0, help="seed of the environments and actions (default: 0)")
    random.add_argument("--max-minutes", type=float, default=5.0,
                        help="an episode stops after this much play (default: %(default)s)")
    random.add_argument("--num-envs", type=int, default=8, help="environments played at once (default: %(default)s)")
    random.add_argument("--noop-max", type=int, default=30,
                        help="up to this many no-ops at each episode's start (default: %(default)s)")
    random.add_argument("--sticky-action-prob", type=float, default=0.0,
                        help="sticky actions (Machado et al. 2018: 0.25; default: %(default)s)")
    random.add_argument("--env-backend", choices=("ale", "python", "python-async"), default="ale",
                        help="how the environments step (default: %(default)s)")
    random.add_argument("--json", action="store_true", help="print the result as one JSON line")


def run(args) -> int:
    if args.atari_command == "play":
        return play(args)
    if args.atari_command == "games":
        return games(args)
    return random_policy(args)


# --------------------------------------------------------------------------------------------- play


def play(args) -> int:
    """Play ``--episodes`` episodes with the run's network; print each; record them when asked."""
    import numpy as np

    record = _record_path(args.record) if args.record else None
    if args.episodes < 1:
        raise ConvsuiteError(f"--episodes is {args.episodes}; play at least 1 episode")
    if not 0.0 <= args.epsilon <= 1.0:
        raise ConvsuiteError(f"--epsilon is {args.epsilon}; it must be in [0, 1] (the paper's evaluation: 0.05)")
    from convsuite.common.cli import start_keras

    start_keras(args.backend or os.environ.get("KERAS_BACKEND", "tensorflow"))
    import dataclasses

    from convsuite.suites.atari import train
    from convsuite.suites.atari.env import make_play_env
    from convsuite.suites.atari.evaluation import epsilon_greedy, evaluation_settings
    from convsuite.suites.atari.replay import FrameStacker
    from convsuite.suites.atari.scores import paper_score

    model, experiment = train.load_run(args.checkpoint, args.which)
    settings = evaluation_settings(train.env_settings(experiment), args.max_minutes)
    if args.game:
        settings = dataclasses.replace(settings, game=args.game)
    env = make_play_env(settings, seed=args.seed, render=record is not None)
    recorder = _Recorder(record) if record is not None else None
    try:
        outputs = int(model.output_shape[-1])
        if outputs != env.num_actions:
            raise ConvsuiteError(f"{args.checkpoint} was trained on {experiment.data.game} ({outputs} actions); "
                                 f"{env.game} has {env.num_actions}; play it on the game it was trained on (drop "
                                 "--game) or on a game with the same action set")
        rng = np.random.default_rng(args.seed)
        stacker = FrameStacker(1, experiment.data.stack, env.frame_shape, env.frame_dtype)
        scores, lengths = [], []
        for episode in range(args.episodes):
            frame, _ = env.reset()
            states = stacker.push(frame[None], starts=np.ones(1, bool))
            score, steps, terminated = 0.0, 0, False
            while True:
                q_values = np.asarray(model.predict_on_batch(states))
                action = int(epsilon_greedy(q_values, args.epsilon, env.num_actions, rng)[0])
                frame, reward, terminated, truncated, _ = env.step(action)
                score += float(reward)
                steps += 1
                if recorder is not None:
                    recorder.add(env.rgb_frame())
                if terminated or truncated:
                    break
                states = stacker.push(frame[None])
            scores.append(score)
            lengths.append(steps)
            unit = "minute" if args.max_minutes == 1 else "minutes"
            cut = "" if terminated else f" (cut after {args.max_minutes:g} {unit})"
            print(f"episode {episode + 1}/{args.episodes}: score {score:g}, {steps} steps{cut}", flush=True)
        if recorder is not None:
            recorder.finish()
    finally:
        env.close()
        if recorder is not None:
            recorder.abort()
    if len(scores) > 1:
        print(f"mean score {np.mean(scores):.2f} +- {np.std(scores):.2f} over {len(scores)} episodes", flush=True)
    reference = paper_score(env.game)
    if reference is not None:
        print(f"{env.game}: {_normalized_text(env.game, float(np.mean(scores)))}; the paper's DQN "
              f"{reference.dqn:g} +- {reference.dqn_std:g}, human {reference.human:g}, random {reference.random:g}",
              flush=True)
    if record is not None:
        print(f"recorded {recorder.frames} frames ({recorder.frames / RECORD_FPS:.1f} s) to {record}", flush=True)
    return 0


def _record_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in RECORD_FORMATS:
        raise ConvsuiteError(f"--record {text!r} must end in .mp4 or .gif (the format follows the suffix)")
    if path.parent and not path.parent.is_dir():
        raise ConvsuiteError(f"--record {text!r}: the directory {str(path.parent)!r} does not exist; create it "
                             "or record elsewhere")
    return path


class _Recorder:
    """Colour frames written to a temporary file beside ``path`` and renamed onto it by ``finish`` (a
    failed or interrupted game leaves no half-written video). MP4: OpenCV's mp4v codec, streamed;
    GIF: imageio, whose GIF delays are whole hundredths of a second (15 frames/s is stored as 70 ms a
    frame) and which merges identical consecutive frames into one longer frame."""

    def __init__(self, path: Path, fps: int = RECORD_FPS):
        from convsuite.common.checkpoint import temporary_name

        self.path = Path(path)
        self.fps = fps
        self.gif = self.path.suffix.lower() == ".gif"
        self.temporary = temporary_name(self.path, suffix=self.path.suffix.lower())
        self.frames = 0
        self._writer = None

    def add(self, rgb) -> None:
        if self._writer is None:
            self._writer = self._open(rgb.shape)
        if self.gif:
            self._writer.append_data(rgb)
        else:
            import cv2

            self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def _open(self, shape):
        if self.gif:
            import imageio.v2 as imageio

            return imageio.get_writer(self.temporary, mode="I", duration=10 * round(100 / self.fps), loop=0)
        import cv2

        height, width = shape[:2]
        writer = cv2.VideoWriter(str(self.temporary), cv2.VideoWriter_fourcc(*"mp4v"), float(self.fps),
                                 (width, height))
        if not writer.isOpened():
            raise ConvsuiteError(f"OpenCV cannot write an MP4 to {self.temporary} (codec mp4v); record a .gif "
                                 "instead or check that the directory is writable")
        return writer

    def _close(self) -> None:
        if self._writer is not None:
            if self.gif:
                self._writer.close()
            else:
                self._writer.release()
            self._writer = None

    def finish(self) -> None:
        """Close the file and move it onto ``path``."""
        if self.frames == 0:
            raise ConvsuiteError(f"nothing to record to {self.path}: no frame was played")
        self._close()
        os.replace(self.temporary, self.path)

    def abort(self) -> None:
        """Drop the temporary file (a no-op after ``finish``)."""
        self._close()
        self.temporary.unlink(missing_ok=True)


# -------------------------------------------------------------------------------------------- games


def games(args) -> int:
    from convsuite.suites.atari.env import available_games
    from convsuite.suites.atari.scores import PAPER, PAPER_SCORES

    names = [name for name in available_games() if not args.paper or name in PAPER_SCORES]
    if args.json:
        rows = [{"game": name, **({"random": PAPER_SCORES[name].random, "human": PAPER_SCORES[name].human,
                                   "dqn": PAPER_SCORES[name].dqn, "dqn_std": PAPER_SCORES[name].dqn_std}
                                  if name in PAPER_SCORES else {})} for name in names]
        print(json.dumps(rows), flush=True)
        return 0
    width = max(len(name) for name in names)
    print(f"{'game':<{width}}  {'random':>9}  {'human':>9}  {'DQN':>18}   ({PAPER}; blank: not in the paper)")
    for name in names:
        reference = PAPER_SCORES.get(name)
        if reference is None:
            print(name, flush=True)
            continue
        dqn = f"{reference.dqn:g} +- {reference.dqn_std:g}"
        print(f"{name:<{width}}  {reference.random:>9g}  {reference.human:>9g}  {dqn:>18}", flush=True)
    in_paper = sum(name in PAPER_SCORES for name in names)
    print(f"{len(names)} games, {in_paper} with the paper's scores", flush=True)
    return 0


# ------------------------------------------------------------------------------------------- random


def random_policy(args) -> int:
    from convsuite.suites.atari.env import EnvSettings, normalize_game
    from convsuite.suites.atari.evaluation import evaluate_policy
    from convsuite.suites.atari.scores import paper_score

    _, game = normalize_game(args.game)
    settings = EnvSettings(game=game, backend=args.env_backend, noop_max=args.noop_max,
                           sticky_action_prob=args.sticky_action_prob)
    result = evaluate_policy(None, settings, episodes=args.episodes, epsilon=1.0, stack=1,
                             max_minutes=args.max_minutes, num_envs=args.num_envs, seed=args.seed,
                             progress=not args.json)
    reference = paper_score(game)
    if args.json:
        print(json.dumps({"game": game, **result.as_metrics("random"),
                          "paper_random": reference.random if reference else None}), flush=True)
        return 0
    print(f"{game}, uniform random policy: mean score {result.mean:.2f} +- {result.std:.2f} over {result.episodes} "
          f"episodes of at most {args.max_minutes:g} minutes (mean {result.lengths.mean():.0f} steps)", flush=True)
    if reference is not None:
        print(f"the paper's random play: {reference.random:g}; this one's {_normalized_text(game, result.mean)}",
              flush=True)
    return 0


def _normalized_text(game: str, score: float) -> str:
    from convsuite.suites.atari.scores import human_normalized

    value = human_normalized(game, score)
    return "no human reference" if value is None else f"human-normalised score {value:.1f}%"
