"""Atari 2600 control with DQN (Mnih et al. 2015) and Double DQN (van Hasselt et al. 2016) on
the Arcade Learning Environment: the paper's frame preprocessing over ale-py's vector
environment or this suite's gymnasium wrappers, a replay memory that stores each frame once,
the Nature network, the training loop with checkpoints and resume, the paper's evaluation
protocol with human-normalised scores, and `convsuite atari play --record`.

Public names load lazily, so reading a config (``convsuite.suites.atari.config``) does not
start Keras: the CLI picks the backend first.
"""

from convsuite.common.lazy import suite_exports

_EXPORTS = {
    # environments
    "EnvSettings": "env",
    "make_vector_env": "env",
    "make_play_env": "env",
    "available_games": "env",
    "normalize_game": "env",
    # replay
    "ReplayMemory": "replay",
    "FrameStacker": "replay",
    "check_replay_fits": "replay",
    # networks and learner
    "nature_dqn": "models",
    "mlp_q_network": "models",
    "DQNLearner": "agent",
    "build_learner": "agent",
    "linear_epsilon": "agent",
    "huber": "agent",
    # evaluation
    "evaluate_policy": "evaluation",
    "EvaluationResult": "evaluation",
    "human_normalized": "scores",
    "PAPER_SCORES": "scores",
    "AtariExperiment": "config",
    "AgentConfig": "config",
}

suite_exports(__name__, _EXPORTS, globals())
