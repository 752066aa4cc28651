"""Feature planes: known answers on small positions, symmetry equivariance, bit packing."""

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import BLACK, WHITE, Board, from_gtp, point
from convsuite.suites.go.features import (
    FEATURE_SETS,
    PositionBatch,
    augment_batch,
    batch_planes,
    board_planes,
    boards_planes,
    num_planes,
    pack_planes,
    plane_names,
    symmetry_permutations,
    transform_move,
    transform_planes,
    unpack_planes,
)
from convsuite.suites.go.gtp import RandomPlayer


def plane(planes, feature_set, name):
    return planes[..., plane_names(feature_set).index(name)]


def planes_one_point_at_a_time(board, feature_set):
    """The planes from the rules engine's own per-point answers (liberty_counts, legal_moves,
    move_effects): the reference the vectorised planes must equal."""
    n, me, stones = board.num_points, board.to_play, board.stones
    own, opponent, empty = stones == me, stones == -me, stones == 0
    liberties, legal = board.liberty_counts(), board.legal_moves()
    captures, after = board.move_effects()

    def bucket(values, first, count, mask):
        out = np.zeros((count, n), np.uint8)
        index = np.flatnonzero(mask)
        out[np.clip(values, first, first + count - 1)[index] - first, index] = 1
        return out

    ko = np.zeros((1, n), np.uint8)
    if board.ko_point >= 0:
        ko[0, board.ko_point] = 1
    groups = {"ones": np.ones((1, n), np.uint8), "stones": np.stack([own, opponent, empty]).astype(np.uint8),
              "cs_liberties": np.concatenate([bucket(liberties, 1, 3, own), bucket(liberties, 1, 3, opponent)]),
              "ko": ko, "liberties": bucket(liberties, 1, 4, ~empty), "liberties_after": bucket(after, 1, 6, legal),
              "legal": legal.astype(np.uint8)[None], "turns_since": bucket(board.move_number - board.stone_age, 1, 5,
                                                                               ~empty),
              "capture_size": bucket(captures, 0, 7, legal), "black_to_play": np.full((1, n), int(me == BLACK),
                                                                                      np.uint8)}
    planes = np.concatenate([groups[g] for g in FEATURE_SETS[feature_set]])
    return planes.T.reshape(board.size, board.size, -1)


@pytest.mark.parametrize("size", [5, 9, 19])
def test_vectorised_planes_equal_the_rules_engines_answers_point_by_point(size):
    """Random games (many captures, kos, big chains), with and without superko, single boards
    and a whole game's batch: every plane of every feature set equals the per-point reference."""
    boards = []
    for seed in range(4 if size < 19 else 1):
        player, board = RandomPlayer(seed), Board(size, superko=seed % 2 == 0)
        while not board.game_over and board.move_number < size * size * 2:
            board.play(player.genmove(board, board.to_play))
            boards.append(board.copy())
    captured = 0
    for feature_set in FEATURE_SETS:
        batch = boards_planes(boards, feature_set)
        for i, board in enumerate(boards[:: 1 if size < 19 else 7]):
            reference = planes_one_point_at_a_time(board, feature_set)
            np.testing.assert_array_equal(board_planes(board, feature_set), reference)
            np.testing.assert_array_equal(batch[i * (1 if size < 19 else 7)], reference)
            captured += int(board.move_effects()[0].max() > 0)
    assert captured > 10  # the capture paths were exercised


def test_a_batch_needs_one_board_size_and_counts_legal_moves():
    with pytest.raises(ConvsuiteError, match="one board size"):
        PositionBatch.from_boards([Board(9), Board(13)])
    board = Board(9)
    board.play(from_gtp("E5", 9))
    _, legal_counts = batch_planes(PositionBatch.from_boards([Board(9), board]))
    assert legal_counts.tolist() == [81, 80]


def test_plane_counts_match_the_papers_minus_the_documented_omissions():
    assert num_planes("clark-storkey") == 8  # 6 liberty planes + ko + ones
    assert num_planes("maddison") == 27  # Table 1's 36 minus ladder (1) and rank (9), plus ones
    assert num_planes("alphago-value") == 28
    with pytest.raises(ConvsuiteError, match="unknown Go feature set"):
        board_planes(Board(9), "nonsense")


def test_stone_liberty_and_age_planes_on_a_small_position():
    board = Board(9)
    for move in ["E5", "E6", "D5", "A1"]:  # black E5, white E6, black D5, white A1
        board.play(from_gtp(move, 9))
    planes = board_planes(board, "maddison")  # black to play
    e5, d5, e6, a1 = (from_gtp(m, 9) for m in ("E5", "D5", "E6", "A1"))
    flat = planes.reshape(81, -1)
    names = plane_names("maddison")
    assert flat[e5, names.index("own")] == 1 and flat[e6, names.index("opponent")] == 1
    assert flat[:, names.index("empty")].sum() == 77
    assert flat[d5, names.index("lib4+")] == 1  # black D5-E5 has 5 liberties
    assert flat[a1, names.index("lib2")] == 1  # the corner stone has 2
    assert flat[e6, names.index("lib3")] == 1
    assert flat[a1, names.index("turns_since1")] == 1 and flat[e5, names.index("turns_since4")] == 1
    assert flat[:, names.index("ones")].all()
    np.testing.assert_array_equal(flat[:, names.index("legal")], board.legal_moves().astype(np.uint8))
    # A black stone at B1 or A2 would capture nothing yet; capture planes are one-hot over legal points.
    captures = flat[:, [names.index(f"captures{i}") for i in range(6)] + [names.index("captures6+")]]
    np.testing.assert_array_equal(captures.sum(axis=1), board.legal_moves().astype(np.uint8))


def test_capture_size_liberties_after_and_ko_planes():
    board = Board(5, superko=False)
    # White D3 surrounded on three sides by black; black to play E3 captures it.
    board.place([point(1, 3, 5), point(3, 3, 5), point(2, 2, 5)], BLACK)
    board.place([point(2, 3, 5)], WHITE)
    board.to_play = BLACK
    planes = board_planes(board, "maddison").reshape(25, -1)
    names = plane_names("maddison")
    capture_point = point(2, 4, 5)
    assert planes[capture_point, names.index("captures1")] == 1
    cs = board_planes(board, "clark-storkey").reshape(25, -1)
    assert cs[point(2, 3, 5), plane_names("clark-storkey").index("opp_lib1")] == 1
    # Make a ko: white stones around E3 so that black's capture leaves a ko shape.
    board = Board(5, superko=False)
    board.place([point(1, 3, 5), point(3, 3, 5), point(2, 2, 5)], BLACK)
    board.place([point(2, 3, 5), point(1, 4, 5), point(3, 4, 5)], WHITE)
    board.to_play = BLACK
    board.play(point(2, 4, 5))  # captures D3: the single black stone on E3 has one liberty, D3
    assert board.ko_point == point(2, 3, 5)
    planes = board_planes(board, "clark-storkey").reshape(25, -1)
    assert planes[:, plane_names("clark-storkey").index("ko")].tolist() == [int(i == point(2, 3, 5)) for i in range(25)]


def test_symmetries_are_the_dihedral_group_of_the_board():
    grid = np.arange(49).reshape(7, 7, 1)
    images = {tuple(transform_planes(grid, k).reshape(-1)) for k in range(8)}
    expected = {tuple(np.rot90(g, r).reshape(-1)) for g in (grid[..., 0], grid[..., 0].T) for r in range(4)}
    assert images == expected and len(images) == 8
    forward, inverse = symmetry_permutations(7)
    np.testing.assert_array_equal(forward[0], np.arange(49))
    for k in range(8):
        np.testing.assert_array_equal(forward[k][inverse[k]], np.arange(49))
        for move in (0, 10, 48):
            onehot = np.zeros((7, 7, 1), np.uint8)
            onehot.reshape(-1)[move] = 1
            assert transform_planes(onehot, k).reshape(-1).argmax() == transform_move(move, k, 7)
    assert transform_move(-1, 3, 7) == -1


def test_features_commute_with_symmetries():
    """Planes of a turned game equal the turned planes of the game (every feature is geometric)."""
    size = 9
    player = RandomPlayer(3)
    board = Board(size, superko=False)
    history = []
    while board.move_number < 60 and not board.game_over:
        move = player.genmove(board, board.to_play)
        history.append(move)
        board.play(move)
    for feature_set in FEATURE_SETS:
        reference = board_planes(board, feature_set)
        for k in range(8):
            turned = Board(size, superko=False)
            for move in history:
                turned.play(transform_move(move, k, size))
            np.testing.assert_array_equal(board_planes(turned, feature_set), transform_planes(reference, k))


def test_augment_batch_moves_labels_with_the_planes():
    rng = np.random.default_rng(0)
    moves = rng.integers(0, 81, 32)
    x = np.zeros((32, 9, 9, 2), np.uint8)
    x.reshape(32, 81, 2)[np.arange(32), moves, 0] = 1
    x_aug, y_aug = augment_batch(x, moves, rng)
    np.testing.assert_array_equal(x_aug[..., 0].reshape(32, 81).argmax(axis=1), y_aug)
    assert (y_aug != moves).any()


def test_pack_unpack_round_trip_is_eight_times_smaller():
    board = Board(19)
    player = RandomPlayer(1)
    for _ in range(80):
        board.play(player.genmove(board, board.to_play))
    planes = np.stack([board_planes(board, "maddison")] * 3)
    packed = pack_planes(planes)
    assert packed.nbytes * 8 <= planes.nbytes + 8 * 3
    np.testing.assert_array_equal(unpack_planes(packed, 19, 27), planes)
