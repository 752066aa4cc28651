"""Data of the Atari suite: the environments themselves.

Reinforcement learning makes its own data: the agent's transitions go into the replay memory
(``replay.py``). What must be there is the emulator and the games: ale-py ships the Arcade
Learning Environment and the ROMs of its games in its wheel (the optional extra ``atari``), so
nothing is downloaded. Imports no Keras.
"""

from __future__ import annotations

from convsuite.common.data import register_dataset

INSTALL = '.venv/bin/pip install -e ".[atari]"'

register_dataset(
    "ale", "Atari 2600 games of the Arcade Learning Environment (data.game=Pong, Breakout, ...; the ROMs ship "
    "with ale-py; `convsuite atari games` lists them)", offline=True,
    how_to_get=f"install the atari extra: {INSTALL} (scripts/setup.sh does)", suite="atari")
register_dataset(
    "gymnasium", "gymnasium environments with a vector state and discrete actions (data.game=CartPole-v1): "
    "checks of the learning loop", offline=True, how_to_get=f"install the atari extra: {INSTALL}", suite="atari")

USER_DATA_HELP = (
    "An environment of your own: register it with gymnasium (`gymnasium.register(id='MyEnv-v0', "
    "entry_point=...)`) in your code, with a Box vector observation and Discrete actions, then train with "
    "`convsuite.suites.atari.train_experiment(experiment)` where experiment.data.dataset='gymnasium', "
    "data.game='MyEnv-v0' and model.name='mlp'. Atari games need no files: every ROM ale-py ships is "
    "available by name (data.game=SpaceInvaders); `convsuite atari games` lists them."
)


def listing() -> list[str]:
    """Extra lines of `convsuite list atari`: the games that can be played."""
    from convsuite.suites.atari.env import available_games

    try:
        games = available_games()
    except Exception as error:  # ale-py missing: say how to get it
        return [f"games: unavailable ({error})"]
    return [f"games ({len(games)}): {', '.join(games)}"]
