"""Write notebooks/checkers_coevolution.ipynb, the checkers suite's notebook.

    python notebooks/make_checkers_notebook.py            # write the notebook, no outputs
    python notebooks/make_checkers_notebook.py --execute  # then run it in quick mode (CONVSUITE_QUICK=1,
                                                          # in a temporary directory) and save the outputs

The notebook reproduces, at small scale, Chellapilla & Fogel (2001): networks that learn checkers
from nothing but the results of their own games. It runs the co-evolution, plots the score of the
best network against a piece-count player over the generations and the evolved king value, plays
an annotated game of the best network against the piece-count player, and rates generations on
an Elo ladder.
"""

from __future__ import annotations

from pathlib import Path

from notebook_builder import NotebookBuilder

BUILDER = NotebookBuilder(Path(__file__).resolve().parent / "checkers_coevolution.ipynb")
md, code = BUILDER.md, BUILDER.code

md(r"""
# Blondie24: checkers learned by co-evolution

Reproduces, at small scale, **Chellapilla & Fogel (2001)**, *Evolving an expert checkers playing program
without using human expertise* (IEEE Transactions on Evolutionary Computation 5(4)). A network sees the 32
squares (+1 own man, +K own king, negative for the opponent's), feeds them to one node per k x k sub-square
of the board (91 nodes, k = 3..8: the "spatial preprocessing" layer), then 40 and 10 tanh units and a tanh
output that also receives the piece difference directly: **5046 weights**. An alpha-beta search of 4 plies
uses it at its leaves. Fifteen parents each make one offspring by self-adaptive Gaussian mutation; the 30
play 5 games each as Black against random others, scoring +1 / 0 / -2 for a win / draw / loss, and the
best 15 survive. The networks are never told who played well: only the final results of their games.
After 840 generations the paper's network rated about 2045 against people playing online (expert class).

Here the baseline is a **piece-count player**: the same alpha-beta search at the same depth with material
only (men 1, kings 1.5) at the leaves, equal moves broken at random. Unset `CONVSUITE_QUICK`, the notebook
shows the `blondie24-short` experiment (250 generations at 2 plies, judged at 4 plies; it trains the run if
`runs/blondie24-short` has not finished yet). With `CONVSUITE_QUICK=1` (as the tests run it) it evolves a
small population for a few generations at 1 ply, which shows the machinery, not the strength.
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
from convsuite.suites.checkers import train as checkers_train
from convsuite.suites.checkers.board import BLACK, Game, Position, perft
from convsuite.suites.checkers.champions import champion_generations, load_champion
from convsuite.suites.checkers.match import elo_ladder_for, play_game
from convsuite.suites.checkers.network import NUM_SUBBOARDS, WEIGHT_COUNT, NetworkEvaluator, subboard_masks
from convsuite.suites.checkers.openings import random_openings
from convsuite.suites.checkers.players import network_player, piece_count_player
from convsuite.suites.checkers.plot import draw_position

QUICK = os.environ.get("CONVSUITE_QUICK") == "1"
work = Path(tempfile.mkdtemp(prefix="convsuite-checkers-nb-"))
print("quick mode" if QUICK else "full scale", "- quick runs go to", work)
""")

md(r"""
## 1. The rules engine

English draughts with compulsory captures, multi-jumps as one move, crowning that ends the move, and kings
moving both ways; squares numbered as in PDN (Black on 1-12 moves first). `perft` counts the leaves of the
move tree from the start: the published counts are 7, 49, 302, 1469, 7361, 36768, 179740, 845931.
""")

code(r"""
start = Position()
print({depth: perft(*start.key, depth) for depth in range(1, 7 if QUICK else 9)})
print(start.diagram())
""")

md(r"""
## 2. The network's spatial preprocessing layer

Each of the 91 first-layer nodes sees one k x k sub-square. Below: how many nodes cover each square (the
centre is seen by more of them) and how many weights each part of the net has.
""")

code(r"""
masks = subboard_masks()
coverage = np.zeros((8, 8))
for index, count in enumerate(masks.sum(axis=1)):
    row = index // 4
    coverage[row, 2 * (index % 4) + (1 if row % 2 == 0 else 0)] = count
fig, ax = plt.subplots(figsize=(3.6, 3.2))
image = ax.imshow(np.where(coverage > 0, coverage, np.nan), cmap="viridis")
ax.set(title=f"{NUM_SUBBOARDS} sub-square nodes: how many see each square", xticks=[], yticks=[])
plt.colorbar(image, ax=ax, fraction=0.046)
plt.show()
print(f"{masks.sum()} sub-square weights + {NUM_SUBBOARDS} biases + {91 * 40 + 40} + {40 * 10 + 10} + {10 + 1} "
      f"= {WEIGHT_COUNT} weights")
""")

md(r"""
## 3. Co-evolution

`convsuite train checkers --config blondie24-short` runs the same loop; every generation is a checkpoint
(population, step sizes, king values, RNG, the games), so an interrupted run continues where it stopped.
Every `evolution.eval_every` generations the best network plays the piece-count player at 4 plies: that is
the curve below. The paper had no such curve; its networks were judged by people online.
""")

code(r"""
if QUICK:
    experiment = registry.make_experiment("checkers", "blondie24-short", [
        "evolution.parents=6", "evolution.games_per_player=2", "evolution.generations=6",
        "evolution.search_depth=1", "evolution.eval_every=2", "evolution.eval_games=4", "evolution.eval_depth=2",
        "evolution.final_games=4", "evolution.workers=1", "trainer.progress=false", f"trainer.run_dir={work}/run"])
else:
    experiment = registry.make_experiment("checkers", "blondie24-short", ["trainer.progress=false"])
metrics = checkers_train.train(experiment)
run = Path(experiment.trainer.run_dir or f"runs/{experiment.name}")
log = pd.read_csv(run / "log.csv")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
evaluated = log.dropna(subset=["score_vs_piece_count"])
axes[0].plot(evaluated.generation, evaluated.score_vs_piece_count, "o-", label="best network")
axes[0].axhline(0.5, color="grey", ls=":", label="even with piece count")
axes[0].set(xlabel="generation", ylabel="score vs piece-count (4 plies)", ylim=(0, 1))
axes[0].legend(fontsize=7)
axes[1].plot(log.generation, log.best_points, label="best")
axes[1].plot(log.generation, log.mean_points, label="mean")
axes[1].set(xlabel="generation", ylabel="points in the generation's games")
axes[1].legend(fontsize=7)
plt.tight_layout()
plt.show()
""")

md(r"""
## 4. The king value over the generations

K starts at 2.0 for every network and moves by -0.1, 0 or +0.1 with each offspring, kept within [1, 3]. The
paper's best network ended near 2.4.
""")

code(r"""
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.plot(log.generation, log.champion_king_value, label="best network")
ax.plot(log.generation, log.mean_king_value, label="population mean")
ax.set(xlabel="generation", ylabel="king value K")
ax.legend(fontsize=7)
plt.show()
""")

md(r"""
## 5. The final matches

The last generation's best network against the piece-count player at equal depth and against the initial
random population, each opening played with both colours; the generation-0 network against the piece-count
player is the baseline. Scores count a draw as half a win; the interval is 95%.
""")

code(r"""
rows = []
for name, key, games in (("vs piece-count", "score_vs_piece_count", "piece_count_match"),
                         ("vs initial population", "score_vs_initial_population", "initial_population_match")):
    rows.append({"match": name, "score": metrics[key], "95% CI": metrics[f"{key}_ci95"], **metrics[games]})
rows.append({"match": "generation 0 vs piece-count (baseline)", "score": metrics["baseline_initial_score_vs_piece_count"],
             **metrics["baseline_initial_piece_count_match"]})
pd.DataFrame(rows)
""")

md(r"""
## 6. An annotated game: the best network against the piece-count player

The network plays Black from a random 2-ply opening. After every move: the network's evaluation of the
position for Black (its search's score) and the material balance; the boards show a few moments.
""")

code(r"""
depth = 2 if QUICK else 4
weights, king, generation = load_champion(run)
evaluator = NetworkEvaluator(weights, king)
black = network_player(weights, king, depth=depth, name=f"generation {generation}")
white = piece_count_player(depth=depth, seed=1)
opening = random_openings(1, seed=3)[0]
record = play_game(black, white, opening, move_limit=100)
game = record.game
values, material, lines = [], [], []
for ply, (move, position) in enumerate(zip(game.moves, game.positions[1:]), start=1):
    value = float(evaluator.evaluate([position.black], [position.white], [position.kings], BLACK)[0])
    counts = position.counts()
    balance = counts["black_men"] + 1.5 * counts["black_kings"] - counts["white_men"] - 1.5 * counts["white_kings"]
    values.append(value)
    material.append(balance)
    if ply <= 12 or move.is_capture or ply > len(game.moves) - 4:
        lines.append(f"{(ply + 1) // 2}{'.' if ply % 2 else '...'} {move}  network {value:+.2f}  material {balance:+.1f}")
print(f"{record.black_name} (Black) vs {record.white_name} (White): {record.result_text}, {record.reason}")
print("\n".join(lines))

fig, ax = plt.subplots(figsize=(7, 2.6))
ax.plot(range(1, len(values) + 1), values, label="network's value for Black")
ax.plot(range(1, len(material) + 1), np.tanh(np.array(material) / 4), "--", label="tanh(material / 4)")
ax.set(xlabel="ply", ylabel="value for Black", ylim=(-1.05, 1.05))
ax.legend(fontsize=7)
plt.show()

moments = sorted({min(len(game.moves), m) for m in (2, len(game.moves) // 3, 2 * len(game.moves) // 3, len(game.moves))})
fig, axes = plt.subplots(1, len(moments), figsize=(3 * len(moments), 3.2))
for ax, ply in zip(np.atleast_1d(axes), moments):
    draw_position(ax, game.positions[ply], title=f"after ply {ply}: {game.moves[ply - 1]}", move=game.moves[ply - 1])
plt.tight_layout()
plt.show()
""")

md(r"""
## 7. An Elo ladder across the generations

Champions of a few generations play a round robin; Bradley-Terry maximum likelihood turns the results into
Elo ratings with the first generation at 0 (`convsuite checkers ladder --checkpoint RUN` does the same).
""")

code(r"""
available = champion_generations(run)
chosen = sorted({int(available[i]) for i in np.linspace(0, len(available) - 1, 3 if QUICK else 6).round().astype(int)})
ladder = elo_ladder_for(run, chosen, games_per_pair=2 if QUICK else 20, depth=2 if QUICK else 4, seed=0,
                        workers=1 if QUICK else 0)
print(ladder.summary())
fig, ax = plt.subplots(figsize=(5, 2.6))
ax.plot(ladder.generations, ladder.ratings, "o-")
ax.set(xlabel="generation", ylabel="Elo (first = 0)")
plt.show()
""")

md(r"""
## Full scale

`convsuite train checkers` runs the paper's 840 generations at 4 plies (`convsuite bench checkers` measures
seconds per generation here); `convsuite reproduce checkers` fills the table of `RESULTS.md`, and
`convsuite checkers play --checkpoint runs/blondie24` plays the result in the terminal.
""")


if __name__ == "__main__":
    BUILDER.main(__doc__)
