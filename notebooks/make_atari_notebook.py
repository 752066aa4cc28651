"""Write notebooks/atari_dqn.ipynb, the Atari suite's notebook.

    python notebooks/make_atari_notebook.py            # write the notebook, no outputs
    python notebooks/make_atari_notebook.py --execute  # then run it in quick mode (CONVSUITE_QUICK=1,
                                                       # in a temporary directory) and save the outputs

The notebook reproduces, at small scale, Mnih et al. (2015): a deep Q-network that learns Pong from
the screen's pixels and the score. It shows the paper's preprocessing of the frames, trains (or reads)
a run, plots its learning curves, evaluates it under the paper's protocol against the random policy
with human-normalised scores, and plays an episode with the network's Q values.
"""

from __future__ import annotations

from pathlib import Path

from notebook_builder import NotebookBuilder

BUILDER = NotebookBuilder(Path(__file__).resolve().parent / "atari_dqn.ipynb")
md, code = BUILDER.md, BUILDER.code

md(r"""
# DQN: Atari from pixels

Reproduces, at small scale, **Mnih et al. (2015)**, *Human-level control through deep reinforcement learning*
(Nature 518). One network, one set of hyperparameters, 49 Atari 2600 games, learned from the screen and the score
alone. The deep Q-network (DQN) estimates, for a state, the expected discounted return of each action; the agent
plays epsilon-greedily on these values and learns them by Q-learning:

- **Preprocessing.** Each action is repeated for 4 emulator frames; a frame is the pixel-wise maximum of the last
  two emulator frames (sprites flicker), converted to luminance and rescaled to 84x84; a state is the 4 most recent
  such frames. Each episode starts with up to 30 no-op actions.
- **The Nature network.** 84x84x4 input, convolutions 32@8x8 stride 4, 64@4x4 stride 2, 64@3x3 stride 1, a
  512-unit layer, all ReLU, and one linear output per action: Q values of all actions in one forward pass.
- **Experience replay.** The last 1M transitions are kept; every 4 actions the network learns from a uniform
  minibatch of 32 of them, which breaks the correlation between consecutive frames. Learning starts after 50k
  steps of the random policy.
- **A target network.** The targets `r + 0.99 max_a' Q_target(s', a')` come from a copy of the network refreshed
  only every C = 10,000 parameter updates (40,000 steps), so the targets do not chase the values they train.
- **Error clipping.** Rewards are clipped to [-1, 1] and the TD error's gradient to [-1, 1], i.e. a Huber loss;
  a lost life ends the episode for learning (not for the score).
- **RMSProp** with learning rate 0.00025, gradient and squared-gradient momentum 0.95, min squared gradient 0.01.
- **Exploration.** Epsilon falls linearly from 1 to 0.1 over the first 1M steps, then stays at 0.1.

The paper trained for 50M steps (200M emulator frames, about 38 days of play) per game. Its DQN scored
**18.9 ± 1.3 on Pong** and **401.2 ± 26.9 on Breakout** (Extended Data Table 2).

**Evaluation protocol.** The trained agent plays 30 episodes, each starting with a random number (0 to 30) of
no-ops and cut after 5 minutes of play (18,000 frames), epsilon-greedy at **epsilon 0.05**; the score is the game's
own. The random baseline is the uniform random policy under the same protocol (the paper's acted at 10 Hz; ours
acts every step). Scores are compared across games as **human-normalised scores**:

$$\text{normalised} = 100 \cdot \frac{\text{score} - \text{random}}{\text{human} - \text{random}}$$

0 is the random policy, 100 the professional human tester: the paper's Pong is 132%, its Breakout 1327%.

**What this notebook does.** Unset `CONVSUITE_QUICK`, it shows the `dqn-pong-short` experiment: 150k steps on 4
environments with an update every step, a 100k memory, Adam at 1e-4, target copies every 1k steps and epsilon
falling to 0.02 over 100k steps. If `runs/dqn-pong-short` has not finished, the notebook trains it: **about an hour
on 2 CPU cores** (an interrupted run resumes from its last checkpoint). That is 0.3% of the paper's training, so
it is a short run of the method, not a reproduction of 18.9. With `CONVSUITE_QUICK=1` (as the tests run it) it
trains the paper's `dqn-pong` experiment for 600 steps with a tiny memory and 30-second evaluation episodes, in a
temporary directory: a few seconds that show the machinery, not the strength.
""")

code(r"""
import json
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from convsuite.common import registry
from convsuite.suites.atari import config as atari_config
from convsuite.suites.atari import train as atari_train
from convsuite.suites.atari.env import EnvSettings, make_play_env
from convsuite.suites.atari.evaluation import epsilon_greedy, evaluation_settings
from convsuite.suites.atari.replay import FrameStacker
from convsuite.suites.atari.scores import PAPER_SCORES, human_normalized

QUICK = os.environ.get("CONVSUITE_QUICK") == "1"
PONG = atari_config.PAPER_RESULTS[0]  # Mnih et al. 2015, Pong: 18.9
work = Path(tempfile.mkdtemp(prefix="convsuite-atari-nb-"))
print("quick mode" if QUICK else "full scale", "- quick runs go to", work)
""")

md(r"""
## 1. Preprocessing

Left: the screen the emulator draws (210x160, 128 colours). Right: what the network sees of it, one 84x84
grayscale frame, the maximum of the last two emulator frames of the 4 the action was repeated for. Below: a state,
the 4 most recent frames of the episode, oldest first; the ball's path and the paddles' motion are in the stack,
not in any single frame.
""")

code(r"""
with make_play_env(EnvSettings(game="Pong"), seed=0) as env:
    stacker = FrameStacker(1, 4, env.frame_shape, env.frame_dtype)
    frame, _ = env.reset()
    state = stacker.push(frame[None], starts=np.ones(1, bool))
    rng = np.random.default_rng(0)
    for _ in range(70):  # the ball is served about a second into the game
        frame, *_ = env.step(int(rng.integers(env.num_actions)))
        state = stacker.push(frame[None])
    screen = env.rgb_frame()
    print("actions:", env.action_meanings)

fig, axes = plt.subplots(1, 2, figsize=(7, 4.2), gridspec_kw={"width_ratios": [160 / 210, 1]})
axes[0].imshow(screen)
axes[0].set_title(f"raw screen {screen.shape[0]}x{screen.shape[1]}x{screen.shape[2]}")
axes[1].imshow(frame, cmap="gray", vmin=0, vmax=255)
axes[1].set_title(f"network input {frame.shape[0]}x{frame.shape[1]}, gray, max-pooled")
for ax in axes:
    ax.set(xticks=[], yticks=[])
plt.tight_layout()
plt.show()

fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
for index, ax in enumerate(axes):
    ax.imshow(state[0, index], cmap="gray", vmin=0, vmax=255)
    ax.set(title=f"t - {3 - index}" if index < 3 else "t (newest)", xticks=[], yticks=[])
fig.suptitle(f"one state: {state.shape[1]} frames of {state.shape[2]}x{state.shape[3]} ({state.dtype})")
plt.tight_layout()
plt.show()
""")

md(r"""
## 2. Training

`convsuite train atari --config dqn-pong-short` runs the same loop. Every `agent.save_every` steps it writes a
checkpoint of everything the run needs (both networks, the optimizer, the replay memory, the counters, the random
generators), so an interrupted run resumes where it stopped. Unset `CONVSUITE_QUICK`, this cell trains
`runs/dqn-pong-short` when it has not finished (**about an hour on 2 CPU cores**) and reads it otherwise. In quick
mode it trains 600 steps of `dqn-pong` (a few seconds): too short to learn anything.
""")

code(r"""
if QUICK:
    name, overrides = "dqn-pong", [*PONG.quick, "trainer.progress=false", f"trainer.run_dir={work}/run"]
else:
    name, overrides = "dqn-pong-short", []
experiment = registry.make_experiment("atari", name, overrides)
run = Path(experiment.trainer.run_dir or f"runs/{experiment.name}")
if (run / "metrics.json").exists():
    metrics = json.loads((run / "metrics.json").read_text())
    print(f"read the finished run {run}")
else:
    metrics = atari_train.train(experiment)
log = pd.read_csv(run / "log.csv")
print(f"{metrics['steps']} steps, {metrics['updates']} updates, {metrics['episodes']} training games, "
      f"{metrics['train_seconds']:.0f} s ({metrics['steps_per_second']:.0f} steps/s)")
log.tail()
""")

md(r"""
## 3. Learning curves

Top left: the training score (the mean of the last 100 games, epsilon-greedy with the training epsilon) and the
evaluations during training (epsilon 0.05), with the random policy's mean and the paper's 18.9. Top right: the
loss. Bottom left: the mean max-Q of a fixed set of states of the random policy, the measure of the paper's Fig. 2
(it rises smoothly while the score is noisy), and the mean Q of the training batches. Bottom right: epsilon.
In quick mode no game of Pong finishes during training (a game lasts thousands of steps), so the score panel has
only the final evaluation.
""")

code(r"""
def series(name):
    # (steps, values) of a log column, empty when the column is missing or has no value yet
    if name not in log:
        return np.array([]), np.array([])
    rows = log.dropna(subset=[name])
    return rows["step"].to_numpy(), rows[name].to_numpy(float)

fig, axes = plt.subplots(2, 2, figsize=(11, 6.5))
ax = axes[0, 0]
steps, values = series("episode_return")
if len(steps):
    ax.plot(steps, values, label="training (mean of last 100 games)")
else:
    ax.text(0.03, 0.04, "no training game has finished yet", transform=ax.transAxes, fontsize=8)
steps, values = series("eval_mean_return")
if len(steps):
    ax.plot(steps, values, "o-", label="evaluation during training")
ax.plot([metrics["steps"]], [metrics["eval_mean_return"]], "*", ms=12, color="C3",
        label=f"final evaluation ({metrics['eval_episodes']} episodes)")
ax.axhline(metrics["random_mean_return"], color="grey", ls=":", label="random policy")
ax.axhline(PONG.paper_value, color="k", ls="--", label=f"paper's DQN ({PONG.paper_value})")
ax.set(xlabel="step", ylabel="score", title="score", xlim=(0, metrics["steps"] * 1.05), ylim=(-22, 22))
ax.legend(fontsize=7, loc="center right")

ax = axes[0, 1]
steps, values = series("loss")
if len(steps):
    ax.plot(steps, values, "o-" if len(steps) < 20 else "-")
    if (values > 0).all():
        ax.set_yscale("log")
else:
    ax.text(0.5, 0.5, "no update yet", ha="center", transform=ax.transAxes)
ax.set(xlabel="step", ylabel="Huber loss", title="loss")

ax = axes[1, 0]
for column, label in (("heldout_max_q", "held-out states: mean max Q (Fig. 2)"), ("mean_q", "training batches: mean Q")):
    steps, values = series(column)
    if len(steps):
        ax.plot(steps, values, "o-" if len(steps) < 20 else "-", label=label)
ax.set(xlabel="step", ylabel="Q", title="action values")
ax.legend(fontsize=7)

ax = axes[1, 1]
steps, values = series("epsilon")
ax.plot(steps, values, "o-" if len(steps) < 20 else "-")
ax.set(xlabel="step", ylabel="epsilon", title="exploration", ylim=(0, 1.05))
plt.tight_layout()
plt.show()
""")

md(r"""
## 4. Evaluation under the paper's protocol

The final network and the uniform random policy, each over the run's evaluation episodes (epsilon 0.05, up to 30
no-ops; 30 episodes of 5 minutes in full mode, 2 of 30 seconds in quick mode, whose scores are therefore not
comparable with the paper's). Then the paper's rows for the two games of this suite.
""")

code(r"""
game = metrics["game"]
agent_returns, random_returns = np.array(metrics["eval_returns"]), np.array(metrics["random_returns"])
protocol = metrics["eval_protocol"]
print(f"protocol: epsilon {protocol['epsilon']}, up to {protocol['noop_max']} no-ops, "
      f"{protocol['max_minutes']:g} minutes at most")
for who, returns in (("DQN", agent_returns), ("random", random_returns)):
    print(f"{who:>6}: {returns.mean():6.2f} ± {returns.std():5.2f} over {len(returns)} episodes, "
          f"human-normalised {human_normalized(game, returns.mean()):6.1f}%")
reference = PAPER_SCORES[game]
print(f" paper: {reference.dqn:6.2f} ± {reference.dqn_std:5.2f}, human-normalised {reference.dqn_normalized:6.1f}%")
if protocol["max_minutes"] < 5:
    print(f"(episodes cut after {protocol['max_minutes']:g} minutes instead of 5: not comparable with the paper)")

fig, ax = plt.subplots(figsize=(7, 2.8))
jitter = np.random.default_rng(0)
for row, (who, returns) in enumerate((("random", random_returns), ("DQN", agent_returns))):
    ax.plot(returns, row + jitter.uniform(-0.12, 0.12, len(returns)), "o", alpha=0.6, color=f"C{row}")
    ax.errorbar(returns.mean(), row, xerr=returns.std(), fmt="|", ms=25, color="k", capsize=4)
ax.axvline(reference.dqn, color="k", ls="--", label=f"paper's DQN ({reference.dqn})")
ax.axvline(reference.human, color="C2", ls=":", label=f"human tester ({reference.human:g})")
ax.set(yticks=[0, 1], yticklabels=["random", "DQN"], xlabel=f"{game} score per episode", ylim=(-0.6, 1.6),
       title="evaluation episodes (bar: mean ± std)")
ax.legend(fontsize=7, loc="lower right")
plt.tight_layout()
plt.show()

table = pd.DataFrame([{"game": PAPER_SCORES[g].title, "random": PAPER_SCORES[g].random, "human": PAPER_SCORES[g].human,
                       "DQN": PAPER_SCORES[g].dqn, "DQN std": PAPER_SCORES[g].dqn_std,
                       "DQN % of human": round(PAPER_SCORES[g].dqn_normalized, 1)} for g in ("Pong", "Breakout")])
table.loc[len(table)] = {"game": f"{game}, this run", "random": round(random_returns.mean(), 2), "human": reference.human,
                         "DQN": round(agent_returns.mean(), 2), "DQN std": round(agent_returns.std(), 2),
                         "DQN % of human": round(human_normalized(game, agent_returns.mean()), 1)}
table
""")

md(r"""
## 5. The network plays

One episode of the run's final network, epsilon-greedy at 0.05 as in the evaluation (cut after a few seconds of
play in quick mode). The strip shows six moments of the colour screen; below, the Q value of the action the agent
took at each step, with the points it won (green) and lost (red). A trained network's value typically falls as a
point it is about to lose becomes certain; an untrained one (quick mode) gives nearly flat values.
""")

code(r"""
model, run_experiment = atari_train.load_run(run)
max_minutes = 0.15 if QUICK else 2.0
settings = evaluation_settings(atari_train.env_settings(run_experiment), max_minutes)
screens, chosen_q, rewards = [], [], []
with make_play_env(settings, seed=1) as env:
    atari_train.check_action_set(model, run_experiment.data.game, env.num_actions, f"{run}/model.keras")
    stacker = FrameStacker(1, run_experiment.data.stack, env.frame_shape, env.frame_dtype)
    frame, _ = env.reset()
    states = stacker.push(frame[None], starts=np.ones(1, bool))
    rng = np.random.default_rng(1)
    while True:
        q_values = np.asarray(model.predict_on_batch(states))
        action = int(epsilon_greedy(q_values, 0.05, env.num_actions, rng)[0])
        frame, reward, terminated, truncated, _ = env.step(action)
        screens.append(env.rgb_frame())
        chosen_q.append(float(q_values[0, action]))
        rewards.append(float(reward))
        if terminated or truncated:
            break
        states = stacker.push(frame[None])
rewards = np.array(rewards)
print(f"score {rewards.sum():+g} in {len(rewards)} steps ({'game over' if terminated else f'cut after {max_minutes:g} min'})")

moments = np.linspace(0, len(screens) - 1, 6).round().astype(int)
fig = plt.figure(figsize=(12, 5.6))
grid = fig.add_gridspec(2, 6, height_ratios=[1.6, 1])
for column, step in enumerate(moments):
    ax = fig.add_subplot(grid[0, column])
    ax.imshow(screens[step])
    ax.set(title=f"step {step + 1}", xticks=[], yticks=[])
ax = fig.add_subplot(grid[1, :])
ax.plot(np.arange(1, len(chosen_q) + 1), chosen_q, lw=1, label="Q of the chosen action")
for sign, color, label in ((1, "C2", "point won"), (-1, "C3", "point lost")):
    hits = np.flatnonzero(np.sign(rewards) == sign)
    if len(hits):
        ax.plot(hits + 1, np.array(chosen_q)[hits], "v" if sign < 0 else "^", color=color, label=label)
for step in moments:
    ax.axvline(step + 1, color="grey", lw=0.5, ls=":")
ax.set(xlabel="step", ylabel="Q")
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()
""")

md(r"""
## Full scale

`convsuite train atari --config dqn-pong` runs the paper's 50M steps with its settings (`convsuite bench atari`
measures steps/s here; on a CPU that is weeks, on a GPU days); `dqn-breakout`, `ddqn-pong` and `ddqn-breakout` are the
other experiments. `convsuite reproduce atari` fills the table of `RESULTS.md`, `convsuite evaluate atari
--checkpoint RUN` re-runs the paper's evaluation, and `convsuite atari play --checkpoint RUN --record pong.mp4`
records a game.
""")


if __name__ == "__main__":
    BUILDER.main(__doc__)
