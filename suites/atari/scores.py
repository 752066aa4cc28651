"""Reference scores of the Nature DQN paper, and human-normalised scores.

Mnih et al., "Human-level control through deep reinforcement learning", Nature 518, 2015,
Extended Data Table 2: for each of the 49 games, the score of the uniform random policy, of a
professional human games tester, and of DQN (mean and standard deviation over 30 evaluation
episodes of up to 5 minutes, epsilon 0.05, up to 30 no-ops at the start). The paper reports an
agent relative to the human tester as ``100 (score - random) / (human - random)``: 0 is the
random policy, 100 the human.

Pure Python: no Keras, no emulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAPER = "Mnih et al. 2015, Extended Data Table 2"


@dataclass(frozen=True)
class PaperScore:
    """One game's row of the paper's table (raw game scores)."""

    title: str  # the game's name as the paper prints it
    random: float  # uniform random policy
    human: float  # professional human games tester
    dqn: float  # DQN, mean over 30 evaluation episodes
    dqn_std: float  # DQN, standard deviation over those episodes

    @property
    def dqn_normalized(self) -> float:
        """The paper's DQN score as a percentage of the human tester's (its last column)."""
        return 100.0 * (self.dqn - self.random) / (self.human - self.random)


def _row(title, random, human, dqn, dqn_std) -> PaperScore:
    return PaperScore(title, float(random), float(human), float(dqn), float(dqn_std))


# Keyed by the game names of ale-py and gymnasium (``env.available_games()``).
PAPER_SCORES: dict[str, PaperScore] = {
    "Alien": _row("Alien", 227.8, 6875, 3069, 1093),
    "Amidar": _row("Amidar", 5.8, 1676, 739.5, 3024),
    "Assault": _row("Assault", 222.4, 1496, 3359, 775),
    "Asterix": _row("Asterix", 210, 8503, 6012, 1744),
    "Asteroids": _row("Asteroids", 719.1, 13157, 1629, 542),
    "Atlantis": _row("Atlantis", 12850, 29028, 85641, 17600),
    "BankHeist": _row("Bank Heist", 14.2, 734.4, 429.7, 650),
    "BattleZone": _row("Battle Zone", 2360, 37800, 26300, 7725),
    "BeamRider": _row("Beam Rider", 363.9, 5775, 6846, 1619),
    "Bowling": _row("Bowling", 23.1, 154.8, 42.4, 88),
    "Boxing": _row("Boxing", 0.1, 4.3, 71.8, 8.4),
    "Breakout": _row("Breakout", 1.7, 31.8, 401.2, 26.9),
    "Centipede": _row("Centipede", 2091, 11963, 8309, 5237),
    "ChopperCommand": _row("Chopper Command", 811, 9882, 6687, 2916),
    "CrazyClimber": _row("Crazy Climber", 10781, 35411, 114103, 22797),
    "DemonAttack": _row("Demon Attack", 152.1, 3401, 9711, 2406),
    "DoubleDunk": _row("Double Dunk", -18.6, -15.5, -18.1, 2.6),
    "Enduro": _row("Enduro", 0, 309.6, 301.8, 24.6),
    "FishingDerby": _row("Fishing Derby", -91.7, 5.5, -0.8, 19.0),
    "Freeway": _row("Freeway", 0, 29.6, 30.3, 0.7),
    "Frostbite": _row("Frostbite", 65.2, 4335, 328.3, 250.5),
    "Gopher": _row("Gopher", 257.6, 2321, 8520, 3279),
    "Gravitar": _row("Gravitar", 173, 2672, 306.7, 223.9),
    "Hero": _row("H.E.R.O.", 1027, 25763, 19950, 158),
    "IceHockey": _row("Ice Hockey", -11.2, 0.9, -1.6, 2.5),
    "Jamesbond": _row("James Bond", 29, 406.7, 576.7, 175.5),
    "Kangaroo": _row("Kangaroo", 52, 3035, 6740, 2959),
    "Krull": _row("Krull", 1598, 2395, 3805, 1033),
    "KungFuMaster": _row("Kung-Fu Master", 258.5, 22736, 23270, 5955),
    "MontezumaRevenge": _row("Montezuma's Revenge", 0, 4367, 0, 0),
    "MsPacman": _row("Ms. Pacman", 307.3, 15693, 2311, 525),
    "NameThisGame": _row("Name This Game", 2292, 4076, 7257, 547),
    "Pong": _row("Pong", -20.7, 9.3, 18.9, 1.3),
    "PrivateEye": _row("Private Eye", 24.9, 69571, 1788, 5473),
    "Qbert": _row("Q*Bert", 163.9, 13455, 10596, 3294),
    "Riverraid": _row("River Raid", 1339, 13513, 8316, 1049),
    "RoadRunner": _row("Road Runner", 11.5, 7845, 18257, 4268),
    "Robotank": _row("Robotank", 2.2, 11.9, 51.6, 4.7),
    "Seaquest": _row("Seaquest", 68.4, 20182, 5286, 1310),
    "SpaceInvaders": _row("Space Invaders", 148, 1652, 1976, 893),
    "StarGunner": _row("Star Gunner", 664, 10250, 57997, 3152),
    "Tennis": _row("Tennis", -23.8, -8.9, -2.5, 1.9),
    "TimePilot": _row("Time Pilot", 3568, 5925, 5947, 1600),
    "Tutankham": _row("Tutankham", 11.4, 167.6, 186.7, 41.9),
    "UpNDown": _row("Up and Down", 533.4, 9082, 8456, 3162),
    "Venture": _row("Venture", 0, 1188, 380, 238.6),
    "VideoPinball": _row("Video Pinball", 16257, 17298, 42684, 16287),
    "WizardOfWor": _row("Wizard of Wor", 563.5, 4757, 3393, 2019),
    "Zaxxon": _row("Zaxxon", 32.5, 9173, 4977, 1235),
}

_GYM_ID = re.compile(r"^(?:ALE/)?(?P<name>[A-Za-z0-9_]+?)(?:NoFrameskip|Deterministic)?(?:-v\d+)?$")
_BY_KEY = {name.lower(): name for name in PAPER_SCORES}


def paper_score(game: str) -> PaperScore | None:
    """The paper's row for ``game`` ("Pong", "pong", "space_invaders", "ALE/Pong-v5"); None if the paper has none."""
    if game in PAPER_SCORES:
        return PAPER_SCORES[game]
    match = _GYM_ID.match(game.strip())
    if not match:
        return None
    name = _BY_KEY.get(match["name"].replace("_", "").lower())
    return PAPER_SCORES[name] if name else None


def human_normalized(game: str, score: float) -> float | None:
    """``100 (score - random) / (human - random)`` with the paper's references; None for a game it lacks."""
    reference = paper_score(game)
    if reference is None:
        return None
    return 100.0 * (float(score) - reference.random) / (reference.human - reference.random)
