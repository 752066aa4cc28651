"""Experiments of the Atari suite: DQN (Mnih et al. 2015) and Double DQN (van Hasselt et al. 2016).

Imports no Keras, so the CLI can read a config and pick the backend before Keras starts.
Every hyperparameter of the loop is a key here, with the Nature paper's value as its default
(Extended Data Table 1): minibatch 32, replay memory 1M, agent history 4, target network
update every 10k updates, discount 0.99, action repeat 4, update every 4 actions, RMSProp
(learning rate 0.00025, gradient and squared-gradient momentum 0.95, min squared gradient
0.01), epsilon 1 -> 0.1 over 1M steps, replay start 50k, up to 30 no-ops at the start.
Steps count the agent's actions (each one is ``frame_skip`` emulator frames): the paper's
50M "frames" are 50M such steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from convsuite.common.config import DataConfig, Experiment, ModelConfig, TrainerConfig, setting, uses
from convsuite.common.errors import ConvsuiteError
from convsuite.common.reproduce import PaperResult

ARCHITECTURES = ("nature-dqn", "mlp")
BACKENDS = ("ale", "python", "python-async")
ATARI = uses("data.dataset", "ale")
MLP = uses("model.name", "mlp")


@dataclass
class AtariModelConfig(ModelConfig):
    name: str = setting("nature-dqn", "Q network: nature-dqn (Mnih et al. 2015: 32@8x8/4, 64@4x4/2, 64@3x3/1, "
                                      "512 units, one output per action) or mlp (for low-dimensional states such "
                                      "as CartPole)", choices=ARCHITECTURES)
    mlp_width: int = setting(64, "units of each hidden layer of the mlp", at_least=1, used_by=MLP)
    mlp_layers: int = setting(2, "hidden layers of the mlp", at_least=1, used_by=MLP)


@dataclass
class AtariDataConfig(DataConfig):
    """The environment is the data: which game, and the paper's preprocessing of its frames."""

    dataset: str = setting("ale", "ale: an Atari 2600 game of the Arcade Learning Environment (ROMs ship with "
                                  "ale-py); gymnasium: a gymnasium environment with a vector state (CartPole-v1)",
                           choices=("ale", "gymnasium"))
    game: str = setting("Pong", "the game (`convsuite list atari` shows them) or gymnasium id")
    backend: str = setting("ale", "how the environments step: ale (ale-py's C++ vector environment, threads), "
                                  "python (this suite's gymnasium wrappers, one process), python-async (the "
                                  "wrappers in subprocesses)", choices=BACKENDS)
    num_envs: int = setting(1, "environments stepped at once; steps and the replay memory are shared, updates "
                               "stay one per agent.train_every steps of all of them together", at_least=1)
    noop_max: int = setting(30, "up to this many no-op actions at the start of every episode (the paper: 30)",
                            at_least=0, used_by=ATARI)
    frame_skip: int = setting(4, "emulator frames per action, the action repeated (the paper: 4)", at_least=1,
                              used_by=ATARI)
    max_pool: bool = setting(True, "a frame is the pixel-wise max of the last two emulator frames (removes "
                                   "flicker; the paper)", used_by=ATARI)
    frame_size: int = setting(84, "frames are resized to this many pixels square, grayscale (the paper: 84)",
                              at_least=8, used_by=ATARI)
    stack: int = setting(4, "frames in a state, the agent history length (the paper: 4)", at_least=1)
    sticky_action_prob: float = setting(0.0, "each emulator frame repeats the previous action with this "
                                             "probability (Machado et al. 2018: 0.25; the paper: 0)",
                                        at_least=0, below=1, used_by=ATARI)
    full_action_space: bool = setting(False, "all 18 actions instead of the game's minimal set (the paper: minimal)",
                                      used_by=ATARI)
    fire_reset: bool = setting(False, "press FIRE after each reset in games that need it (not in the paper)",
                               used_by=ATARI)
    terminal_on_life_loss: bool = setting(True, "a lost life ends the episode for learning (targets and stacks), "
                                                "not for the score or the game (the paper)", used_by=ATARI)
    clip_rewards: bool = setting(True, "rewards clipped to [-1, 1] for learning; returns stay the game's "
                                       "score (the paper)")
    max_episode_frames: int = setting(108_000, "emulator frames after which an episode is cut (30 minutes)",
                                      at_least=1, used_by=ATARI)


@dataclass
class AgentConfig:
    """The DQN loop: what is stored, when the networks learn, how the agent explores."""

    total_steps: int = setting(50_000_000, "agent steps (actions, over all environments) to train (the paper: "
                                           "50M)", at_least=1)
    replay_size: int = setting(1_000_000, "transitions the replay memory holds (the paper: 1M; about 7.1 GB of "
                                          "84x84 frames, each stored once)", at_least=1)
    replay_start: int = setting(50_000, "steps of the random policy that fill the memory before learning starts "
                                        "(the paper: 50k)", at_least=1)
    train_every: int = setting(4, "one gradient update every this many steps (the paper: 4)", at_least=1)
    target_update: int = setting(10_000, "updates between copies of the online network into the target network "
                                         "(the paper: 10k updates, i.e. 40k steps at one update per 4 steps)",
                                 at_least=1)
    gamma: float = setting(0.99, "discount factor (the paper: 0.99)", at_least=0, at_most=1)
    double_dqn: bool = setting(False, "Double DQN targets: the online network picks the next action, the target "
                                      "network values it (van Hasselt et al. 2016)")
    huber_delta: float = setting(1.0, "the TD error is clipped to [-delta, delta] in the gradient, i.e. a Huber "
                                      "loss (the paper: 1)", above=0)
    epsilon_start: float = setting(1.0, "exploration rate at the first step", at_least=0, at_most=1)
    epsilon_final: float = setting(0.1, "exploration rate after the decay (the paper: 0.1)", at_least=0, at_most=1)
    epsilon_decay_steps: int = setting(1_000_000, "steps of the linear decay from epsilon_start to epsilon_final "
                                                  "(the paper: 1M)", at_least=1)
    rmsprop_rho: float = setting(0.95, "decay of RMSProp's gradient and squared-gradient averages (the paper: "
                                       "0.95)", above=0, below=1, used_by=uses("trainer.optimizer", "rmsprop"))
    rmsprop_epsilon: float = setting(1e-5, "RMSProp's min squared gradient for the batch-MEAN loss used here: the "
                                           "paper's 0.01 on a batch-summed loss is 0.01/32^2, about 1e-5",
                                     above=0, used_by=uses("trainer.optimizer", "rmsprop"))
    adam_epsilon: float = setting(1.5e-4, "Adam's epsilon (the value used with Adam for DQN since Rainbow: "
                                          "1.5e-4)", above=0, used_by=uses("trainer.optimizer", "adam"))
    heldout_states: int = setting(500, "states of the random policy kept aside; their mean max-Q is logged (the "
                                       "paper's Fig. 2 measure)", at_least=1)
    log_every: int = setting(10_000, "steps between log rows (steps/s, returns, loss, mean Q, epsilon)",
                             at_least=1)
    save_every: int = setting(250_000, "steps between checkpoints (networks, optimizer, replay memory, "
                                       "counters, RNGs); the last step is always saved", at_least=1)


@dataclass
class EvaluationConfig:
    """The paper's evaluation: epsilon 0.05, up to 30 no-ops, at most 5 minutes of play an episode."""

    episodes: int = setting(30, "episodes of the final evaluation (the paper: 30)", at_least=1)
    epsilon: float = setting(0.05, "exploration rate while evaluated (the paper: 0.05)", at_least=0, at_most=1)
    max_minutes: float = setting(5.0, "an evaluation episode stops after this much play at 60 frames/s (the "
                                      "paper: 5 minutes = 18,000 frames)", above=0)
    every: int = setting(0, "steps between evaluations during training (0: only at the end)", at_least=0)
    episodes_during: int = setting(5, "episodes of each evaluation during training", at_least=1)
    num_envs: int = setting(8, "environments an evaluation plays at once", at_least=1)
    random_episodes: int = setting(30, "episodes of the uniform random policy under the same protocol: the "
                                       "baseline next to the agent", at_least=1)


@dataclass
class AtariExperiment(Experiment):
    suite: str = setting("atari", "the suite this experiment belongs to")
    model: AtariModelConfig = field(default_factory=AtariModelConfig, metadata={"help": "the Q network"})
    data: AtariDataConfig = field(default_factory=AtariDataConfig,
                                  metadata={"help": "the environment: game, preprocessing, environments at once"})
    agent: AgentConfig = field(default_factory=AgentConfig,
                               metadata={"help": "the DQN loop: replay, updates, target network, exploration"})
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig,
                                         metadata={"help": "the paper's evaluation protocol"})

    def check_consistency(self) -> None:
        a, d = self.agent, self.data
        if d.dataset == "gymnasium" and self.model.name == "nature-dqn":
            raise ConvsuiteError(f"data.dataset=gymnasium ({d.game}) has vector states; use model.name=mlp "
                                 "(nature-dqn reads stacks of 84x84 frames)")
        if d.dataset == "ale" and self.model.name == "mlp":
            raise ConvsuiteError("model.name=mlp does not read Atari frames; use model.name=nature-dqn")
        if a.replay_start < self.trainer.batch_size:
            raise ConvsuiteError(f"agent.replay_start={a.replay_start} must be at least trainer.batch_size="
                                 f"{self.trainer.batch_size} (the first update samples a batch)")
        if a.replay_start > a.replay_size:
            raise ConvsuiteError(f"agent.replay_start={a.replay_start} is more than the memory holds "
                                 f"(agent.replay_size={a.replay_size})")
        if a.epsilon_final > a.epsilon_start:
            raise ConvsuiteError(f"agent.epsilon_final={a.epsilon_final} is above agent.epsilon_start="
                                 f"{a.epsilon_start}; exploration decays")
        if a.replay_size < d.num_envs * (d.stack + 2):
            raise ConvsuiteError(f"agent.replay_size={a.replay_size} is too small for {d.num_envs} environments "
                                 f"with stacks of {d.stack}; give at least {d.num_envs * (d.stack + 2)}")


def _trainer(optimizer: str = "rmsprop", learning_rate: float = 0.00025) -> TrainerConfig:
    # batch_size, optimizer, learning_rate, momentum, seed, run_dir, keep_checkpoints and progress apply;
    # the epoch keys do not (the loop counts steps: agent.*)
    momentum = {"momentum": 0.0} if optimizer == "rmsprop" else {}  # the paper's RMSProp has none
    return TrainerConfig(batch_size=32, optimizer=optimizer, learning_rate=learning_rate, monitor="eval_mean_return",
                         keep_checkpoints=1, **momentum)


def dqn(game: str) -> AtariExperiment:
    return AtariExperiment(name=f"dqn-{game.lower()}", description=f"DQN on {game} as in Mnih et al. 2015 (50M "
                                                                   "steps, the paper's settings)",
                           model=AtariModelConfig(), data=AtariDataConfig(game=game), agent=AgentConfig(),
                           evaluation=EvaluationConfig(), trainer=_trainer())


def ddqn(game: str) -> AtariExperiment:
    """Double DQN with the Nature settings otherwise (the paper's tuned variant also changes the target update
    and the final epsilon; those are keys here)."""
    exp = dqn(game)
    exp.name = f"ddqn-{game.lower()}"
    exp.description = f"Double DQN on {game} (van Hasselt et al. 2016), the Nature settings otherwise"
    exp.agent.double_dqn = True
    return exp


def dqn_pong_short() -> AtariExperiment:
    """A Pong run that fits two CPU cores in an hour: one update per step instead of one per 4 (the
    network sees as many batches per frame played as it can), a 100k memory started after 10k steps,
    exploration decayed over 100k steps, target copies every 1k updates, Adam; 150k steps."""
    exp = dqn("Pong")
    exp.name = "dqn-pong-short"
    exp.description = "DQN on Pong, short: 150k steps, an update every step, 100k memory, Adam 1e-4 (a CPU run)"
    exp.data.num_envs = 4
    exp.agent = AgentConfig(total_steps=150_000, replay_size=100_000, replay_start=10_000, train_every=1,
                            target_update=1_000, epsilon_final=0.02, epsilon_decay_steps=100_000, log_every=5_000,
                            save_every=25_000)
    exp.evaluation.every = 50_000
    exp.trainer = _trainer("adam", 1e-4)
    return exp


def dqn_cartpole() -> AtariExperiment:
    """The same loop on CartPole-v1 with an MLP: the check that the learner learns, in two minutes on a CPU.
    The settings are the published DQN CartPole settings of the RL Baselines3 Zoo (256-256 MLP, Adam 2.3e-3,
    batch 64, epsilon to 0.04 over the first 16% of 50k steps), with its bursts of updates spread out: one
    update every 2 steps and a target copy every 128 updates."""
    return AtariExperiment(
        name="dqn-cartpole", description="DQN with a 256-256 MLP on CartPole-v1 (the loop's sanity check)",
        model=AtariModelConfig(name="mlp", mlp_width=256),
        data=AtariDataConfig(dataset="gymnasium", game="CartPole-v1", backend="python", num_envs=1, stack=1,
                             clip_rewards=False),
        agent=AgentConfig(total_steps=50_000, replay_size=20_000, replay_start=1_000, train_every=2,
                          target_update=128, gamma=0.99, epsilon_final=0.04, epsilon_decay_steps=8_000,
                          heldout_states=200, log_every=2_000, save_every=10_000),
        evaluation=EvaluationConfig(episodes=20, epsilon=0.0, max_minutes=1000.0, episodes_during=10, every=10_000,
                                    num_envs=4, random_episodes=20),
        trainer=replace(_trainer("adam", 2.3e-3), batch_size=64))


EXPERIMENTS = {
    "dqn-pong": lambda: dqn("Pong"),
    "dqn-breakout": lambda: dqn("Breakout"),
    "ddqn-pong": lambda: ddqn("Pong"),
    "ddqn-breakout": lambda: ddqn("Breakout"),
    "dqn-pong-short": dqn_pong_short,
    "dqn-cartpole": dqn_cartpole,
}
DEFAULT_EXPERIMENT = "dqn-pong"

_QUICK = ["agent.total_steps=600", "agent.replay_size=2000", "agent.replay_start=300", "agent.target_update=100",
          "agent.epsilon_decay_steps=300", "agent.heldout_states=32", "agent.log_every=200", "agent.save_every=300",
          "evaluation.episodes=2", "evaluation.random_episodes=2", "evaluation.max_minutes=0.5",
          "evaluation.num_envs=2"]
_RETURN = dict(metric="eval_mean_return", baseline_metric="random_mean_return", baseline="uniform random policy")
PAPER_RESULTS = [
    PaperResult(paper="Mnih et al. 2015", setting="Pong, 50M steps, epsilon 0.05, up to 30 no-ops",
                paper_value=18.9, experiment="dqn-pong", quick=_QUICK, **_RETURN),
    PaperResult(paper="Mnih et al. 2015", setting="Breakout, 50M steps, epsilon 0.05, up to 30 no-ops",
                paper_value=401.2, experiment="dqn-breakout", quick=_QUICK, **_RETURN),
    PaperResult(paper="van Hasselt et al. 2016", setting="Double DQN, Pong, the Nature settings", paper_value=None,
                experiment="ddqn-pong", quick=_QUICK, note="the paper reports its tuned variant", **_RETURN),
    PaperResult(paper="Mnih et al. 2015", setting="Pong, 150k steps, an update every step (a CPU run)",
                paper_value=None,
                experiment="dqn-pong-short", quick=_QUICK + ["evaluation.every=0"],
                note="a short run of the paper's method, not a setting of the paper", **_RETURN),
]
