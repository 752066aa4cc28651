"""`convsuite bench atari`: this suite's DQN against Stable-Baselines3's on the same settings.

Three figures for each side, in one process, one after the other: environment steps/s with
random actions (the preprocessing included), updates/s (one minibatch update of the Nature
network), and the whole training loop's steps/s once learning has started (acting with the
network, stepping, storing, one update every ``agent.train_every`` steps). The peer is
Stable-Baselines3's DQN (PyTorch, CPU here) with its Atari wrappers and frame stack, given the
experiment's environments, memory, batch, update period, target period and optimizer; it runs
when ``stable-baselines3`` is installed (``pip install -e ".[atari-peer]"``).
"""

from __future__ import annotations

import csv
import tempfile
import time
from dataclasses import replace

import numpy as np

from convsuite.common.errors import ConvsuiteError

BENCH_REPLAY = 50_000  # the memory of both sides (a 1M memory would take 7 GB and minutes to allocate)
BENCH_START = 1_000  # steps of the random policy before learning starts


def bench_experiment(experiment, steps: int):
    """The experiment with a memory and a start that fit a benchmark, no evaluation to speak of."""
    a = replace(experiment.agent, replay_size=min(experiment.agent.replay_size, BENCH_REPLAY),
                replay_start=BENCH_START, total_steps=BENCH_START + steps, log_every=max(500, steps // 4),
                save_every=10**9, heldout_states=32, epsilon_decay_steps=BENCH_START + steps)
    e = replace(experiment.evaluation, episodes=1, random_episodes=1, max_minutes=0.05, every=0, num_envs=1)
    t = replace(experiment.trainer, progress=False)
    return replace(experiment, agent=a, evaluation=e, trainer=t)


def env_steps_per_second(settings, num_envs: int, steps: int, seed: int = 0) -> float:
    from convsuite.suites.atari.env import make_vector_env

    env = make_vector_env(settings, num_envs, seed=seed)
    try:
        rng = np.random.default_rng(seed)
        env.reset()
        env.step(rng.integers(0, env.num_actions, num_envs))
        began, done = time.perf_counter(), 0
        while done < steps:
            env.step(rng.integers(0, env.num_actions, num_envs))
            done += num_envs
        return done / (time.perf_counter() - began)
    finally:
        env.close()


def updates_per_second(experiment, num_actions: int, state_shape: tuple, updates: int = 60) -> float:
    from convsuite.common.runtime import configure
    from convsuite.suites.atari.agent import build_learner

    runtime = configure(experiment.runtime)
    with runtime.scope():
        learner = build_learner(experiment, num_actions, state_shape, jit_compile=runtime.jit_compile)
    rng = np.random.default_rng(0)
    batch_size = experiment.trainer.batch_size
    dtype = np.uint8 if experiment.data.dataset == "ale" else np.float32

    def batch():
        return {"state": rng.integers(0, 255, (batch_size, *state_shape)).astype(dtype),
                "action": rng.integers(0, num_actions, batch_size).astype(np.int32),
                "reward": rng.choice([-1.0, 0.0, 1.0], batch_size).astype(np.float32),
                "next_state": rng.integers(0, 255, (batch_size, *state_shape)).astype(dtype),
                "done": (rng.random(batch_size) < 0.05).astype(np.float32)}

    batches = [batch() for _ in range(8)]
    for b in batches[:3]:
        learner.train_on_batch(b, return_dict=True)  # compile
    began = time.perf_counter()
    for i in range(updates):
        learner.train_on_batch(batches[i % len(batches)], return_dict=True)
    return updates / (time.perf_counter() - began)


def loop_steps_per_second(experiment) -> float:
    """The real training loop (``train``) in a scratch run directory; steps/s of the log rows after the start."""
    from convsuite.suites.atari.train import train

    with tempfile.TemporaryDirectory() as scratch:
        run = replace(experiment, trainer=replace(experiment.trainer, run_dir=scratch))
        train(run, resume=False)
        with open(f"{scratch}/log.csv", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if int(r["step"]) > BENCH_START + experiment.data.num_envs]
    rates = [float(r["steps_per_second"]) for r in rows if r.get("steps_per_second")]
    if not rates:
        raise ConvsuiteError("the benchmark run logged no row after learning started; give it more steps")
    return float(np.median(rates))


def sb3_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("stable_baselines3") is not None


def sb3_figures(experiment, steps: int) -> dict:
    """Stable-Baselines3's DQN on the same settings: env steps/s, updates/s, loop steps/s."""
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    import ale_py
    import gymnasium

    gymnasium.register_envs(ale_py)
    d, a, t = experiment.data, experiment.agent, experiment.trainer
    if d.dataset != "ale":
        raise ConvsuiteError("the Stable-Baselines3 peer runs on Atari games only")
    env = make_atari_env(f"ALE/{d.game}-v5", n_envs=d.num_envs, seed=t.seed,
                         env_kwargs={"frameskip": 1, "repeat_action_probability": d.sticky_action_prob,
                                     "full_action_space": d.full_action_space},
                         wrapper_kwargs={"noop_max": d.noop_max, "frame_skip": d.frame_skip,
                                         "screen_size": d.frame_size, "terminal_on_life_loss": d.terminal_on_life_loss,
                                         "clip_reward": d.clip_rewards})
    env = VecFrameStack(env, n_stack=d.stack)
    try:
        rng = np.random.default_rng(0)
        env.reset()
        began, done = time.perf_counter(), 0
        while done < 2_000:
            env.step(rng.integers(0, env.action_space.n, d.num_envs))
            done += d.num_envs
        env_rate = done / (time.perf_counter() - began)

        if t.optimizer == "rmsprop":
            optimizer = {"optimizer_class": torch.optim.RMSprop,
                         "optimizer_kwargs": {"alpha": a.rmsprop_rho, "eps": a.rmsprop_epsilon, "centered": True}}
        else:
            optimizer = {"optimizer_class": torch.optim.Adam, "optimizer_kwargs": {"eps": a.adam_epsilon}}
        # SB3 counts train_freq in calls of the vector env (num_envs transitions each)
        calls_per_update = max(1, a.train_every // d.num_envs)
        updates_per_call = max(1, d.num_envs // a.train_every)
        model = DQN("CnnPolicy", env, learning_rate=t.learning_rate, buffer_size=a.replay_size,
                    learning_starts=BENCH_START, batch_size=t.batch_size, gamma=a.gamma,
                    train_freq=calls_per_update, gradient_steps=updates_per_call,
                    target_update_interval=a.target_update, exploration_fraction=1.0,
                    exploration_initial_eps=a.epsilon_start, exploration_final_eps=a.epsilon_final,
                    optimize_memory_usage=False, policy_kwargs=optimizer, device="cpu", seed=t.seed, verbose=0)

        class Clock(BaseCallback):
            def __init__(self):
                super().__init__()
                self.marks = []

            def _on_step(self) -> bool:
                if self.num_timesteps > BENCH_START + d.num_envs and not self.marks:
                    self.marks.append((self.num_timesteps, time.perf_counter()))
                return True

            def _on_training_end(self) -> None:
                self.marks.append((self.num_timesteps, time.perf_counter()))

        clock = Clock()
        model.learn(total_timesteps=BENCH_START + steps, callback=clock)
        (first_step, first_time), (last_step, last_time) = clock.marks[0], clock.marks[-1]
        loop_rate = (last_step - first_step) / max(last_time - first_time, 1e-9)

        began = time.perf_counter()
        model.train(gradient_steps=60, batch_size=t.batch_size)
        update_rate = 60 / (time.perf_counter() - began)
        return {"env_steps_per_s": round(env_rate, 1), "updates_per_s": round(update_rate, 1),
                "loop_steps_per_s": round(loop_rate, 1), "torch_threads": torch.get_num_threads()}
    finally:
        env.close()


def _peer_in_own_process(experiment, steps: int) -> dict:
    """``sb3_figures`` in a fresh Python process: PyTorch and TensorFlow in one process can crash each other."""
    import json
    import os
    import subprocess
    import sys

    from convsuite.common.config import to_toml

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "peer.toml")
        with open(path, "w") as handle:
            handle.write(to_toml(experiment))
        result = subprocess.run([sys.executable, "-m", "convsuite.suites.atari.bench", path, str(steps)],
                                capture_output=True, text=True)
    if result.returncode != 0:
        raise ConvsuiteError(f"the Stable-Baselines3 peer failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_bench(experiment, steps: int = 3_000) -> dict:
    """Both sides' figures and the ratios (ours / Stable-Baselines3's)."""
    import keras

    from convsuite.suites.atari.env import make_vector_env
    from convsuite.suites.atari.train import env_settings

    experiment.validate()
    run = bench_experiment(experiment, steps)
    d = run.data
    settings = env_settings(run)
    probe = make_vector_env(settings, 1, seed=0)
    num_actions, state_shape = probe.num_actions, (d.stack, *probe.frame_shape)
    probe.close()
    ours = {"env_steps_per_s": round(env_steps_per_second(settings, d.num_envs, 4_000), 1),
            "updates_per_s": round(updates_per_second(run, num_actions, state_shape), 1),
            "loop_steps_per_s": round(loop_steps_per_second(run), 1)}
    result = {"suite": "atari", "experiment": experiment.name, "game": d.game, "num_envs": d.num_envs,
              "env_backend": d.backend, "backend": keras.backend.backend(), "steps_after_start": steps,
              "replay_size": run.agent.replay_size, "batch_size": run.trainer.batch_size,
              "train_every": run.agent.train_every, **{f"ours_{k}": v for k, v in ours.items()}}
    if d.dataset == "ale" and sb3_available():
        peer = _peer_in_own_process(run, steps)
        result.update({f"sb3_{k}": v for k, v in peer.items()})
        for key in ("env_steps_per_s", "updates_per_s", "loop_steps_per_s"):
            result[f"ratio_{key}"] = round(ours[key] / max(peer[key], 1e-9), 2)
    else:
        result["peer"] = ('Stable-Baselines3 is not installed: .venv/bin/pip install -e ".[atari-peer]" adds it '
                          "as the peer of this benchmark")
    return result


if __name__ == "__main__":  # the peer's own process: python -m convsuite.suites.atari.bench EXPERIMENT.toml STEPS
    import json
    import sys

    # no TensorFlow in the peer's process (tensorboard, which PyTorch's logger imports, would load it): its
    # native libraries and PyTorch's crash each other; a None entry makes the import fail and find_spec say None
    sys.modules["tensorflow"] = None

    from convsuite.common import registry

    peer_experiment = registry.make_experiment("atari", sys.argv[1])
    print(json.dumps(sb3_figures(peer_experiment, int(sys.argv[2]))))
