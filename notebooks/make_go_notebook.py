"""Write notebooks/go_move_prediction.ipynb, the Go suite's notebook.

    python notebooks/make_go_notebook.py            # write the notebook, no outputs
    python notebooks/make_go_notebook.py --execute  # then run it in quick mode (CONVSUITE_QUICK=1,
                                                    # in a temporary directory) and save the outputs

The notebook reproduces the move-prediction experiment of Clark & Storkey (2014) and Maddison
et al. (2015) at small scale: GNU Go games made on the spot, both policy nets against the
uniformly random legal move, accuracy by move number, a policy heat-map on a held-out
position, and a short match against GNU Go.
"""

from __future__ import annotations

from pathlib import Path

from notebook_builder import NotebookBuilder

BUILDER = NotebookBuilder(Path(__file__).resolve().parent / "go_move_prediction.ipynb")
md, code = BUILDER.md, BUILDER.code

md(r"""
# Move prediction in Go with convolutional networks

Reproduces, at small scale, the experiment of two papers with convsuite's Go suite:

* **Clark & Storkey (2014)**, *Teaching deep convolutional neural networks to play Go*
  (arXiv:1412.3409): a 7x7 and six 5x5 convolutional layers and one fully connected layer, fed with
  stones split by liberties; **44%** of expert (KGS) moves predicted, and **86%** wins against GNU Go.
* **Maddison, Huang, Sutskever & Silver (2015)**, *Move evaluation in Go using deep convolutional neural
  networks* (ICLR): a 12-layer net (a 5x5 layer, then 3x3 layers, position-dependent biases) with richer
  features (liberties after the move, capture size, turns since, legality); **55%** of expert moves, and
  **97%** wins against GNU Go with no search.

Those numbers come from 19x19 games of strong humans and days of GPU training. Here, with no download and
on a CPU, the games are **GNU Go playing itself on 9x9** after a few random opening moves (the suite's
default data), so the nets learn to predict GNU Go. The baseline on the same held-out positions is the
**uniformly random legal move**. Splits are by game: no test position comes from a training game.

Set `CONVSUITE_QUICK=1` (as the tests do) for a short run (200 games, small nets, a few epochs, two match
games against GNU Go level 0); unset, it uses the `maddison-gnugo9` and `clark-storkey-gnugo9` experiments
as configured and a 20-game match against GNU Go level 10.
""")

code(r"""
import json
import os
import tempfile
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from convsuite.suites.go import train as go_train
from convsuite.suites.go.board import BLACK, Board, to_gtp
from convsuite.suites.go.config import EXPERIMENTS
from convsuite.suites.go.data import describe_games, extract_positions, generate_selfplay, load_games
from convsuite.suites.go.gtp import play_match
from convsuite.suites.go.player import PolicyPlayer
from convsuite.suites.go.plot import draw_board
from convsuite.suites.go.sgf import replay

QUICK = os.environ.get("CONVSUITE_QUICK") == "1"
work = tempfile.mkdtemp(prefix="convsuite-go-nb-")
print("quick mode" if QUICK else "full scale", "- runs in", work, "- Keras backend", keras.backend.backend())
""")

md(r"""
## 1. Games: GNU Go against itself

`gnugo-selfplay` drives GNU Go over GTP (the same client the match runner uses). GNU Go is deterministic, so
each game starts with 4 uniformly random moves on the third line or above; those moves are kept in the SGF
(and marked in its `GC`) but never used as training targets. Results are GNU Go's area count (`--chinese-rules`),
komi 7.5.
""")

code(r"""
def experiment(name):
    exp = EXPERIMENTS[name]()
    exp.data.data_dir = f"{work}/data"
    exp.trainer.progress = False
    exp.trainer.run_dir = f"{work}/{name}"
    if QUICK:
        exp.data.games, exp.data.gnugo_level = 200, 0
        if exp.model.name != "clark-storkey":  # its layers are fixed by the paper
            exp.model.depth, exp.model.filters = 6, 32
        exp.trainer.epochs = 5
        if name.startswith("clark-storkey"):  # it needs ~1,500 steps to leave its starting plateau
            exp.trainer.epochs, exp.trainer.batch_size = 8, 32
    return exp

policy_exp = experiment("maddison-gnugo9")
folder = generate_selfplay(policy_exp.data, progress=False)
games, skipped = load_games(policy_exp.data)
print(skipped.summary(), "|", describe_games(games))

record = games[0]
fig, ax = plt.subplots(figsize=(4, 4))
draw_board(ax, replay(record), title=f"{record.name.split('/')[-1]}: {len(record.moves)} moves, {record.result}")
plt.show()
""")

md(r"""
## 2. Train both policy nets

Same games, same game-level split, each net on its own paper's features (27 planes for Maddison et al.
without their ladder and rank planes; 8 for Clark & Storkey). Each training example is turned by a random
one of the 8 board symmetries inside the model (the papers tied weights instead). The Clark & Storkey net
(large kernels, a fully connected output, no normalization) stays near chance for its first ~1,500 steps
before it starts to learn, so it gets more steps; on these small data the 3x3 net with the richer features
learns much faster.
""")

code(r"""
runs = {}
for name in ("maddison-gnugo9", "clark-storkey-gnugo9"):
    exp = experiment(name)
    start = time.time()
    metrics = go_train.train(exp, resume=False)
    runs[name] = (exp, metrics)
    print(f"{name:>22}: top-1 {metrics['policy_top1']:.3f}, top-5 {metrics['policy_top5']:.3f} | uniform legal move "
          f"top-1 {metrics['baseline_uniform_legal_top1']:.3f}, top-5 {metrics['baseline_uniform_legal_top5']:.3f} "
          f"| {metrics['train_examples']} training positions, {time.time() - start:.0f} s")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for name, (exp, metrics) in runs.items():
    log = pd.read_csv(f"{exp.trainer.run_dir}/log.csv")
    axes[0].plot(log.epoch + 1, log.accuracy, "--", label=f"{name} train")
    axes[0].plot(log.epoch + 1, log.val_accuracy, label=f"{name} validation")
    axes[1].plot(log.epoch + 1, log.val_top5, label=name)
axes[0].axhline(metrics["baseline_uniform_legal_top1"], color="grey", ls=":", label="uniform legal move")
axes[1].axhline(metrics["baseline_uniform_legal_top5"], color="grey", ls=":", label="uniform legal move")
axes[0].set(xlabel="epoch", ylabel="top-1 accuracy")
axes[1].set(xlabel="epoch", ylabel="validation top-5 accuracy")
axes[0].legend(fontsize=7)
axes[1].legend(fontsize=7)
plt.tight_layout()
plt.show()
best = max(runs.values(), key=lambda r: r[1]["policy_top1"])[1]
assert best["policy_top1"] > 3 * best["baseline_uniform_legal_top1"]
""")

md(r"""
## 3. Accuracy by move number

Maddison et al. (Fig. 2) show accuracy falling as the game goes on and the board gets more particular.
Here: top-1 accuracy per move-number bucket on the held-out games.
""")

code(r"""
fig, ax = plt.subplots(figsize=(7, 3))
width = 0.38
for i, (name, (exp, metrics)) in enumerate(runs.items()):
    table = metrics["accuracy_by_move_number"]
    ax.bar(np.arange(len(table)) + (i - 0.5) * width, [v["accuracy"] for v in table.values()], width, label=name)
ax.set_xticks(np.arange(len(table)), list(table))
ax.axhline(best["baseline_uniform_legal_top1"], color="grey", ls=":", label="uniform legal move (all moves)")
ax.set(xlabel="move number", ylabel="top-1 accuracy")
ax.legend(fontsize=7)
plt.show()
print(json.dumps({k: round(v["accuracy"], 3) for k, v in runs["maddison-gnugo9"][1]["accuracy_by_move_number"].items()}))
""")

md(r"""
## 4. What the net sees: a policy heat-map

A position from a held-out game: the shading is the Maddison-style net's move distribution, the blue ring
the move GNU Go played.
""")

code(r"""
exp, _ = runs["maddison-gnugo9"]
model, _ = go_train.load_run(exp.trainer.run_dir)
player = PolicyPlayer(model, exp.data.feature_set)
test_names = set(json.load(open(f"{exp.trainer.run_dir}/splits.json"))["test"])
test_game = next(g for g in games if g.name in test_names)
number = min(16, len(test_game.moves) - 1)
board = replay(test_game, upto=number)
color, actual = test_game.moves[number]
probs = player.move_probabilities(board, color)
top = np.argsort(-probs)[:3]
fig, ax = plt.subplots(figsize=(4.6, 4.6))
image = draw_board(ax, board, heat=probs, mark=actual,
                   title=f"move {number + 1}, {'black' if color == BLACK else 'white'} to play: "
                         f"played {to_gtp(actual, 9)}, net's top 3 {', '.join(to_gtp(int(p), 9) for p in top)}")
plt.colorbar(image, ax=ax, fraction=0.046)
plt.show()
""")

md(r"""
## 5. A short match against GNU Go

`play_match` is what `convsuite go match` runs: colours alternate, every game is written as SGF, GNU Go
counts the result (area scoring), and the win rate comes with a Wilson 95% interval. The net plays its most
likely legal move with no search; it passes when no sensible move is left or when its opponent has passed and
it is ahead on the board.
""")

code(r"""
games_to_play, level = (2, 0) if QUICK else (20, 10)
match = play_match(player, f"gnugo --mode gtp --level {level} --chinese-rules", games_to_play, board_size=9, komi=7.5,
                   out_dir=f"{work}/match", progress=False)
print(f"{match.wins} wins, {match.losses} losses, {match.draws} draws against GNU Go level {level}; "
      f"win rate {match.win_rate:.2f} (95% CI {match.ci_low:.2f}-{match.ci_high:.2f})")
for game in match.results:
    print(f"  game {game.index}: we were {'black' if game.our_color == BLACK else 'white'}, {game.result} "
          f"after {game.moves} moves ({game.reason})")
from convsuite.suites.go.data import read_sgf_file
final = read_sgf_file(match.sgf_paths[0])
fig, ax = plt.subplots(figsize=(4, 4))
draw_board(ax, replay(final, superko=True), title=f"match game 0: {final.players.get('PB')} (B) vs "
                                                   f"{final.players.get('PW')} (W), {final.result}")
plt.show()
""")

md(r"""
## Full scale

`convsuite train go --config maddison-sgf --set data.source=PATH` trains the paper's 12x128 net on any 19x19
SGF collection (folders or .tar.gz/.zip archives); `RESULTS.md` records what was reached and on which machine,
next to the published 44% / 55% and the win rates against GNU Go.
""")


if __name__ == "__main__":
    BUILDER.main(__doc__)
