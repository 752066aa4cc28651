"""Go board diagrams for notebooks: stones, an optional per-point heat-map (a policy), marks."""

from __future__ import annotations

import numpy as np

from convsuite.suites.go.board import BLACK, GTP_LETTERS, WHITE, Board


def draw_board(ax, board: Board, heat: np.ndarray | None = None, mark: int | None = None, title: str = "",
               cmap: str = "Reds"):
    """Draw ``board`` on a matplotlib axis; ``heat`` (size*size) shades the points (e.g. move
    probabilities) and ``mark`` rings one point (e.g. the move actually played)."""
    size = board.size
    ax.set_facecolor("#dcb35c")
    image = None
    if heat is not None:
        grid = np.asarray(heat, np.float64).reshape(size, size)
        image = ax.imshow(grid, cmap=cmap, alpha=0.75, extent=(-0.5, size - 0.5, size - 0.5, -0.5),
                          vmin=0, vmax=max(grid.max(), 1e-9), zorder=1)
    for i in range(size):
        ax.plot([0, size - 1], [i, i], color="black", lw=0.6, zorder=2)
        ax.plot([i, i], [0, size - 1], color="black", lw=0.6, zorder=2)
    stones = board.stones.reshape(size, size)
    for color, face in ((BLACK, "black"), (WHITE, "white")):
        rows, cols = np.nonzero(stones == color)
        ax.scatter(cols, rows, s=(220 * 9 / size) ** 1.0 * 1.6, c=face, edgecolors="black", linewidths=0.6, zorder=3)
    if mark is not None and mark >= 0:
        row, col = divmod(int(mark), size)
        ax.scatter([col], [row], s=300 * 9 / size * 1.6, facecolors="none", edgecolors="#1f77b4", linewidths=2.5,
                   zorder=4)
    ax.set_xticks(range(size), list(GTP_LETTERS[:size]))
    ax.set_yticks(range(size), [str(size - r) for r in range(size)])
    ax.set_xlim(-0.7, size - 0.3)
    ax.set_ylim(size - 0.3, -0.7)
    ax.set_aspect("equal")
    ax.tick_params(length=0, labelsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return image
