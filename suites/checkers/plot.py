"""Checkers board diagrams for notebooks: pieces, kings, square numbers and the last move."""

from __future__ import annotations

from convsuite.suites.checkers.board import Move, Position, row_col


def draw_position(ax, position: Position, title: str = "", move: Move | None = None, numbers: bool = True) -> None:
    """Draw ``position`` on a matplotlib axis, Black's back rank (squares 1-4) on top; ``move``
    (the move that led here) is drawn as an arrow along its path."""
    from matplotlib.patches import Circle, Rectangle

    for row in range(8):
        for column in range(8):
            dark = (row + column) % 2 == 1
            ax.add_patch(Rectangle((column, row), 1, 1, color="#b58863" if dark else "#f0d9b5", zorder=0))
    for square in range(1, 33):
        row, column = row_col(square)
        piece = position.piece_at(square)
        if numbers:
            ax.text(column + 0.08, row + 0.22, str(square), fontsize=5, color="#3b2a1a", zorder=1)
        if piece:
            face = "#202020" if piece.lower() == "b" else "#f4f4f4"
            ax.add_patch(Circle((column + 0.5, row + 0.5), 0.36, facecolor=face, edgecolor="black", lw=0.8, zorder=2))
            if piece.isupper():
                ax.text(column + 0.5, row + 0.53, "K", ha="center", va="center", fontsize=9, fontweight="bold",
                        color="#d4a017", zorder=3)
    if move is not None:
        points = [row_col(square) for square in move.squares]
        for (r0, c0), (r1, c1) in zip(points[:-1], points[1:]):
            ax.annotate("", xy=(c1 + 0.5, r1 + 0.5), xytext=(c0 + 0.5, r0 + 0.5), zorder=4,
                        arrowprops={"arrowstyle": "->", "color": "#1f77b4", "lw": 2})
    ax.set_xlim(0, 8)
    ax.set_ylim(8, 0)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
