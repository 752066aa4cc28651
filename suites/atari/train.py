"""Trainer, evaluator and benchmark of the Atari suite: the DQN loop of Mnih et al. 2015.

One loop, in the order the paper's Algorithm 1 reads, with every hyperparameter in the
experiment (``config.py``):

1. act: epsilon-greedy on the online network's Q values of each environment's stack of the
   last ``data.stack`` frames (uniform random until ``agent.replay_start``);
2. step all environments at once; rewards clipped for learning, a lost life ends the episode
   for learning (stacks and targets) but not for the score;
3. store the transition (each frame once) in the replay memory;
4. every ``agent.train_every`` steps: one update on a uniform minibatch (``agent.DQNLearner``);
   every ``agent.target_update`` updates: copy the online network into the target network;
5. every ``agent.log_every`` steps: steps/s, episodic return, loss, mean Q (of the batches and of
   held-out states), epsilon to log.csv and TensorBoard; every ``agent.save_every`` steps a
   checkpoint of everything the run needs (``common.runstate``): both networks, the optimizer,
   the replay memory, the counters, the RNGs.

A killed run resumes from its newest checkpoint with the same command. The emulators' state is
not part of a checkpoint: the resumed run starts new episodes (seeded from the step), and the
memory's last transition of each environment is closed as cut off, so nothing is learned from
a transition whose next frame never came.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.errors import ConvsuiteError
from convsuite.common.results import read_metrics
from convsuite.common.rundir import RESUMABLE_KEYS
from convsuite.common.runstate import RunState
from convsuite.suites.atari.config import EXPERIMENTS, AtariExperiment, dqn

# A run may go on for longer, log, save and evaluate differently, step on another backend.
RESUMABLE = (*RESUMABLE_KEYS, "agent.total_steps", "agent.log_every", "agent.save_every", "data.backend",
             "evaluation.episodes", "evaluation.every", "evaluation.episodes_during", "evaluation.num_envs",
             "evaluation.random_episodes")
RECENT_EPISODES = 100  # the training return logged is the mean of the last this many games


def experiment_from_run(run_dir: str | Path) -> AtariExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, lambda: dqn("Pong"))


def load_run(run_dir: str | Path, which: str = "model"):
    """(online Q network, experiment) of a run directory: ``model.keras`` (the last) or ``best.keras``
    (the best evaluated during training); a run still training gives its newest checkpoint's network."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConvsuiteError(f"checkpoint directory {run_dir} does not exist; give a run directory written by "
                             "`convsuite train atari`")
    experiment = experiment_from_run(run_dir)
    if (run_dir / f"{which}.keras").exists():
        return trainer_lib.load_run_model(run_dir, which), experiment
    return _checkpoint_network(run_dir, experiment, which), experiment


def _checkpoint_network(run_dir: Path, experiment: AtariExperiment, which: str):
    """The online network of the newest intact checkpoint of a run that has not finished."""
    from convsuite.common.checkpoint import CheckpointStore
    from convsuite.common.runstate import load_checkpointed_model
    from convsuite.suites.atari.models import build_model

    checkpoint = CheckpointStore(run_dir).latest(repoint=False)
    if checkpoint is None:
        raise ConvsuiteError(f"{run_dir} has no {which}.keras and no checkpoint yet; let `convsuite train atari` "
                             "run until its first checkpoint (agent.save_every steps)")
    values = checkpoint.record.get("values", {})
    d = experiment.data
    frame_shape = tuple(values.get("frame_shape") or (d.frame_size, d.frame_size))
    model = build_model(experiment, len(values.get("action_meanings", [])) or None, (d.stack, *frame_shape))
    load_checkpointed_model(checkpoint, "online", model)
    print(f"{run_dir} has not finished: using the network of its checkpoint at step {checkpoint.step}.")
    return model


def env_settings(experiment: AtariExperiment):
    """The environment settings of the experiment's data section."""
    from convsuite.suites.atari.env import EnvSettings

    d = experiment.data
    if d.dataset == "gymnasium":
        return EnvSettings(game=d.game, backend="python" if d.backend == "ale" else d.backend)
    return EnvSettings(game=d.game, backend=d.backend, noop_max=d.noop_max, frame_skip=d.frame_skip,
                       max_pool=d.max_pool, frame_size=d.frame_size, sticky_action_prob=d.sticky_action_prob,
                       full_action_space=d.full_action_space, fire_reset=d.fire_reset,
                       max_episode_frames=d.max_episode_frames)


def check_action_set(model, game: str, num_actions: int, what: str) -> None:
    """A network trained for another action set cannot play this game: say which."""
    outputs = int(model.output_shape[-1])
    if outputs != num_actions:
        raise ConvsuiteError(f"{what} outputs {outputs} action values but {game} has {num_actions} actions; it was "
                             "trained on another game or action set (data.game, data.full_action_space)")


class _QFunction:
    """Q values of a batch of states from a Keras model, compiled once (``predict_on_batch``)."""

    def __init__(self, model):
        self.model = model

    def __call__(self, states: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_on_batch(states))


def train(experiment: AtariExperiment, resume: bool = True) -> dict:
    """Train the DQN agent; write the run directory; return its metrics."""
    import keras

    from convsuite.common.runtime import configure
    from convsuite.suites.atari.agent import build_learner
    from convsuite.suites.atari.env import make_vector_env
    from convsuite.suites.atari.replay import FrameStacker, ReplayMemory, check_replay_fits

    experiment.validate()
    a, d, t = experiment.agent, experiment.data, experiment.trainer
    settings = env_settings(experiment)
    state = RunState.open(experiment, resume=resume, total_steps=a.total_steps, may_change=RESUMABLE)
    env = None
    try:
        if state.finished:
            print(f"{state.path} has finished already; its metrics:")
            return read_metrics(state.path)
        runtime = configure(experiment.runtime)
        keras.utils.set_random_seed(t.seed)
        env = make_vector_env(settings, d.num_envs, seed=t.seed)
        frame_shape, frame_dtype = tuple(env.frame_shape), np.dtype(env.frame_dtype)
        state_shape = (d.stack, *frame_shape)
        check_replay_fits(a.replay_size, d.num_envs, frame_shape, frame_dtype, d.stack)
        memory = ReplayMemory(a.replay_size, d.num_envs, frame_shape, frame_dtype, stack=d.stack)
        with runtime.scope():
            learner = build_learner(experiment, env.num_actions, state_shape, jit_compile=runtime.jit_compile)
        explore = np.random.default_rng([t.seed, 1])
        sampler = np.random.default_rng([t.seed, 2])
        state.add_model("online", learner.online, learner.optimizer)
        state.add_model("target", learner.target)
        state.add_generator("explore", explore)
        state.add_generator("sampler", sampler)
        state.arrays.update(memory.arrays)
        state.arrays["heldout"] = np.zeros((a.heldout_states, *state_shape), frame_dtype)
        state.values.update(memory.values, updates=0, episodes=0, recent_returns=[], recent_lengths=[],
                            heldout_ready=False, seconds=0.0, evaluations=[], game=settings.game,
                            action_meanings=list(env.action_meanings), frame_shape=list(frame_shape))
        if state.restore():
            memory.load(state.arrays, state.values)
            memory.end_episodes()  # the emulators restart: the newest transitions have no next frame
            env.close()
            env = make_vector_env(settings, d.num_envs, seed=t.seed + 7919 * state.step + 1)
            _check_same_actions(state.values, env)
        state.values["device"] = runtime.device_kind
        stacker = FrameStacker(d.num_envs, d.stack, frame_shape, frame_dtype)
        return _loop(experiment, state, env, memory, stacker, learner, explore, sampler)
    finally:
        if env is not None:
            env.close()
        state.close()


def _check_same_actions(values: dict, env) -> None:
    saved = values.get("action_meanings")
    if saved and list(saved) != list(env.action_meanings):
        raise ConvsuiteError(f"the checkpoint was trained with actions {saved}, this environment has "
                             f"{list(env.action_meanings)}; resume with the run's data.game and data.full_action_space")


def _loop(experiment, state, env, memory, stacker, learner, explore, sampler) -> dict:
    """Act, step, store, learn, log, save: until agent.total_steps (Algorithm 1 of the paper)."""
    from convsuite.suites.atari.agent import linear_epsilon
    from convsuite.suites.atari.evaluation import epsilon_greedy

    a, d, t = experiment.agent, experiment.data, experiment.trainer
    n = d.num_envs
    q_function = _QFunction(learner.online)
    frames, lives = env.reset()
    states = stacker.push(frames, np.ones(n, bool))
    returns, lengths = np.zeros(n), np.zeros(n, np.int64)
    recent_returns = deque(state.values["recent_returns"], maxlen=RECENT_EPISODES)
    recent_lengths = deque(state.values["recent_lengths"], maxlen=RECENT_EPISODES)
    interval_started, interval_steps = time.perf_counter(), 0
    while state.step < a.total_steps:
        began = time.perf_counter()
        step = state.step
        epsilon = linear_epsilon(step, a.epsilon_start, a.epsilon_final, a.epsilon_decay_steps)
        learning = step >= a.replay_start
        q_values = q_function(states) if learning and epsilon < 1.0 else None
        actions = epsilon_greedy(q_values, epsilon, env.num_actions, explore, count=n)
        next_frames, rewards, terminated, truncated, next_lives = env.step(actions)
        ended = terminated | truncated
        life_lost = (next_lives < lives) & ~ended if d.terminal_on_life_loss else np.zeros(n, bool)
        terminal = terminated | life_lost
        boundary = terminal | truncated
        learn_rewards = np.clip(rewards, -1.0, 1.0) if d.clip_rewards else rewards
        memory.add(frames, actions, learn_rewards.astype(np.float32), terminal, boundary)
        returns += rewards
        lengths += 1
        for i in np.flatnonzero(ended):
            recent_returns.append(float(returns[i]))
            recent_lengths.append(int(lengths[i]))
            state.values["episodes"] += 1
            returns[i], lengths[i] = 0.0, 0
        frames, lives = next_frames, next_lives
        states = stacker.push(frames, boundary)
        state.step = step + n

        if not state.values["heldout_ready"] and memory.can_sample(a.heldout_states) and \
                len(memory) >= min(a.replay_start, a.heldout_states * 2):
            state.arrays["heldout"][...] = memory.sample(a.heldout_states, sampler)["state"]
            state.values["heldout_ready"] = True
        if state.step >= a.replay_start:
            due = state.step // a.train_every - max(step, a.replay_start - 1) // a.train_every
            for _ in range(max(0, due) if memory.can_sample(t.batch_size) else 0):
                learner.train_on_batch(memory.sample(t.batch_size, sampler), return_dict=True)
                state.values["updates"] += 1
                if state.values["updates"] % a.target_update == 0:
                    learner.update_target()
        state.values["seconds"] += time.perf_counter() - began
        interval_steps += n

        row = None
        if _crossed(step, state.step, a.log_every) or state.step >= a.total_steps:
            now = time.perf_counter()
            row = _log_row(state, learner, q_function, epsilon, recent_returns, recent_lengths,
                           interval_steps / max(now - interval_started, 1e-9))
            interval_started, interval_steps = now, 0
        if experiment.evaluation.every and _crossed(step, state.step, experiment.evaluation.every):
            row = row or {}
            result = _evaluate(experiment, q_function, experiment.evaluation.episodes_during, seed=state.step)
            row["eval_mean_return"] = round(result.mean, 3)
            state.values["evaluations"].append([state.step, result.mean, result.std])
            _keep_best(state, learner, result.mean)
        if row is not None:
            state.values["recent_returns"], state.values["recent_lengths"] = list(recent_returns), list(recent_lengths)
            state.log(row)
            learner.reset_metrics()
        else:
            state.advance()
        if _crossed(step, state.step, a.save_every) or state.step >= a.total_steps:
            state.values["recent_returns"], state.values["recent_lengths"] = list(recent_returns), list(recent_lengths)
            state.values.update(memory.values)
            state.save()
    return _finish(experiment, state, learner, q_function)


def _crossed(before: int, after: int, every: int) -> bool:
    """Whether a multiple of ``every`` lies in (before, after]: the steps of several environments go in strides."""
    return after // every > before // every


def _log_row(state, learner, q_function, epsilon, recent_returns, recent_lengths, steps_per_second) -> dict:
    logs = {k: float(v) for k, v in learner.get_metrics_result().items()} if state.values["updates"] else {}
    row = {"steps_per_second": round(steps_per_second, 1), "episodes": state.values["episodes"],
           "updates": state.values["updates"], "epsilon": round(epsilon, 4)}
    if recent_returns:
        row["episode_return"] = round(float(np.mean(recent_returns)), 3)
        row["episode_length"] = round(float(np.mean(recent_lengths)), 1)
    if "loss" in logs:
        row["loss"] = logs["loss"]
        row["mean_q"] = logs.get("mean_q", float("nan"))
    if state.values["heldout_ready"]:
        row["heldout_max_q"] = float(np.mean(np.max(q_function(state.arrays["heldout"]), axis=-1)))
    return row


def _evaluate(experiment, q_function, episodes: int, seed: int, progress: bool = False):
    from convsuite.suites.atari.evaluation import evaluate_policy

    e = experiment.evaluation
    return evaluate_policy(q_function, env_settings(experiment), episodes=episodes, epsilon=e.epsilon,
                           stack=experiment.data.stack, max_minutes=e.max_minutes, num_envs=e.num_envs,
                           seed=experiment.trainer.seed * 1_000_003 + seed, progress=progress)


def _keep_best(state, learner, score: float) -> None:
    """Save the online network as best.keras when it evaluates better than every earlier evaluation."""
    from convsuite.common.checkpoint import save_model_atomic

    earlier = [s for _, s, _ in state.values["evaluations"][:-1]]
    if not earlier or score > max(earlier):
        save_model_atomic(learner.online, state.path / "best.keras")


def _finish(experiment, state, learner, q_function) -> dict:
    from convsuite.common.checkpoint import save_model_atomic
    from convsuite.suites.atari.scores import PAPER_SCORES, human_normalized

    import keras

    e = experiment.evaluation
    save_model_atomic(learner.online, state.path / "model.keras")
    noops = f"up to {experiment.data.noop_max} no-ops, " if experiment.data.dataset == "ale" else ""
    print(f"Evaluating {e.episodes} episodes (epsilon {e.epsilon}, {noops}{e.max_minutes:g} minutes at most), "
          f"and the random policy's {e.random_episodes} ...")
    final = _evaluate(experiment, q_function, e.episodes, seed=10**9, progress=state.show_bar)
    random = _evaluate(experiment, None, e.random_episodes, seed=2 * 10**9, progress=state.show_bar)
    if not (state.path / "best.keras").exists() or not state.values["evaluations"] or \
            final.mean >= max(s for _, s, _ in state.values["evaluations"]):
        save_model_atomic(learner.online, state.path / "best.keras")
    game = state.values["game"]
    seconds = state.values["seconds"]
    recent = state.values["recent_returns"]
    reference = PAPER_SCORES.get(game)
    metrics = {
        "experiment": experiment.name, "suite": experiment.suite, "game": game,
        "actions": state.values["action_meanings"], "steps": int(state.step), "updates": int(state.values["updates"]),
        "episodes": int(state.values["episodes"]), "train_seconds": round(seconds, 3),
        "steps_per_second": round(state.step / max(seconds, 1e-9), 1), "device": state.values["device"], "backend":
            keras.backend.backend(), "double_dqn": experiment.agent.double_dqn,
        **final.as_metrics("eval"),
        **random.as_metrics("random"),
        "eval_protocol": {"epsilon": e.epsilon, "noop_max": experiment.data.noop_max, "max_minutes": e.max_minutes,
                          "sticky_action_prob": experiment.data.sticky_action_prob},
        "human_normalized_score": _rounded(human_normalized(game, final.mean)),
        "random_human_normalized_score": _rounded(human_normalized(game, random.mean)),
        "training_episode_return": round(float(np.mean(recent)), 3) if recent else None,
        "evaluations": [{"step": int(s), "mean_return": round(m, 3), "std_return": round(sd, 3)}
                        for s, m, sd in state.values["evaluations"]],
    }
    if reference is not None:
        metrics["paper_dqn_mean_return"] = reference.dqn
    return state.finish(metrics)


def _rounded(value):
    return None if value is None else round(float(value), 2)


def evaluate(run_dir: str | Path, which: str = "model") -> dict:
    """A saved network under the paper's protocol (the run's evaluation section), with the random policy."""
    from convsuite.suites.atari.env import make_vector_env
    from convsuite.suites.atari.scores import human_normalized

    model, experiment = load_run(run_dir, which)
    probe = make_vector_env(env_settings(experiment), 1, seed=0)
    try:
        check_action_set(model, experiment.data.game, probe.num_actions, f"{run_dir}/{which}.keras")
    finally:
        probe.close()
    e = experiment.evaluation
    result = _evaluate(experiment, _QFunction(model), e.episodes, seed=10**9, progress=True)
    random = _evaluate(experiment, None, e.random_episodes, seed=2 * 10**9, progress=True)
    return {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which, "game": experiment.data.game,
            **result.as_metrics("eval"), **random.as_metrics("random"),
            "human_normalized_score": _rounded(human_normalized(experiment.data.game, result.mean))}


def bench(experiment: AtariExperiment, steps: int = 3_000) -> dict:
    """Environment steps/s (random actions), updates/s (one DQN update on a replay batch), and the whole
    loop's steps/s at the experiment's settings; with Stable-Baselines3's DQN on the same settings as the
    peer when it is installed (ratio = ours / theirs)."""
    from convsuite.suites.atari.bench import run_bench

    return run_bench(experiment, steps)
