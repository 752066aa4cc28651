"""The numpy Blondie24 network: sub-board geometry, input codes and their orientation, the flat
weight layout, and the material baseline."""

import numpy as np
import pytest

from convsuite.suites.checkers import network


def bitboard(*squares):
    return sum(1 << (s - 1) for s in squares)


START_BLACK = bitboard(*range(1, 13))
START_WHITE = bitboard(*range(21, 33))


def test_subboard_mask_has_every_placement_of_every_size():
    mask = network.subboard_masks()
    assert mask.shape == (32, 91) and mask.dtype == bool
    assert int(mask.sum()) == 854
    sizes = []
    for k in network.SUBBOARD_SIZES:
        sizes += [k] * (9 - k) ** 2
    assert [sizes.count(k) for k in network.SUBBOARD_SIZES] == [36, 25, 16, 9, 4, 1]
    # A k x k sub-square holds k*k/2 playable squares, or (k*k +- 1)/2 for odd k.
    for column, k in enumerate(sizes):
        assert abs(int(mask[:, column].sum()) - k * k / 2) <= 0.5
    assert mask[:, -1].all()  # the whole board


def test_each_subboard_column_covers_a_k_by_k_square_in_placement_order():
    rows, cols = network.square_coordinates()
    assert (rows[0], cols[0]) == (0, 1) and (rows[28], cols[28]) == (7, 0) and (rows[4], cols[4]) == (1, 0)
    mask = network.subboard_masks()
    column = 0
    for k in network.SUBBOARD_SIZES:
        for top in range(9 - k):
            for left in range(9 - k):
                inside = mask[:, column]
                r, c = rows[inside], cols[inside]
                assert r.min() == top and r.max() == top + k - 1
                assert c.min() == left and c.max() == left + k - 1
                expected = (rows >= top) & (rows < top + k) & (cols >= left) & (cols < left + k)
                np.testing.assert_array_equal(inside, expected)
                column += 1
    assert column == 91


def test_weight_count_is_the_papers_5046():
    assert network.WEIGHT_COUNT == 854 + 91 + 91 * 40 + 40 + 40 * 10 + 10 + 10 + 1 == 5046


def test_start_position_codes_look_the_same_from_both_sides():
    expected = np.array([1] * 12 + [0] * 8 + [-1] * 12, dtype=np.int8)
    for perspective in (0, 1):
        codes = network.board_codes([START_BLACK], [START_WHITE], [0], perspective)
        assert codes.dtype == np.int8 and codes.shape == (1, 32)
        np.testing.assert_array_equal(codes[0], expected)


def test_white_sees_the_board_reversed_with_its_pieces_positive():
    # Black: man on 5, king on 18; White: man on 30, king on 9.
    black, white, kings = bitboard(5, 18), bitboard(30, 9), bitboard(18, 9)
    from_black = network.board_codes([black], [white], [kings], 0)[0]
    from_white = network.board_codes([black], [white], [kings], 1)[0]
    expected_black = np.zeros(32, np.int8)
    expected_black[[4, 17, 29, 8]] = [1, 2, -1, -2]
    np.testing.assert_array_equal(from_black, expected_black)
    expected_white = np.zeros(32, np.int8)
    # White's view of square s sits at index 32 - s.
    expected_white[[32 - 5, 32 - 18, 32 - 30, 32 - 9]] = [-1, -2, 1, 2]
    np.testing.assert_array_equal(from_white, expected_white)
    np.testing.assert_array_equal(from_white, -from_black[::-1])


def test_board_codes_take_ints_arrays_and_per_row_perspectives():
    black = [START_BLACK, bitboard(5, 18)]
    white = [START_WHITE, bitboard(30, 9)]
    kings = [0, bitboard(18, 9)]
    mixed = network.board_codes(np.array(black, np.uint32), np.array(white, np.int64), kings, np.array([0, 1]))
    np.testing.assert_array_equal(mixed[0], network.board_codes(black[:1], white[:1], kings[:1], 0)[0])
    np.testing.assert_array_equal(mixed[1], network.board_codes(black[1:], white[1:], kings[1:], 1)[0])
    highest = network.board_codes([bitboard(32)], [0], [bitboard(32)], 0)
    assert highest[0, 31] == 2 and np.count_nonzero(highest) == 1


def test_flat_weights_split_and_join_round_trip():
    flat = network.random_weights(np.random.default_rng(0))
    assert flat.shape == (5046,) and flat.min() >= -0.2 and flat.max() <= 0.2
    parts = network.split_flat(flat)
    assert parts["subboard_kernel"].shape == (854,) and parts["dense1_kernel"].shape == (91, 40)
    assert parts["dense2_kernel"].shape == (40, 10) and parts["output_kernel"].shape == (10,)
    np.testing.assert_array_equal(network.join_flat(parts), flat)
    assert network.random_weights(np.random.default_rng(0), n=3).shape == (3, 5046)
    with pytest.raises(ValueError, match="5046"):
        network.split_flat(flat[:-1])


def reference_value(flat, king_value, codes):
    """The network written out node by node from the layout."""
    parts = network.split_flat(flat)
    mask = network.subboard_masks()
    x = np.where(np.abs(codes) == 2, np.sign(codes) * king_value, codes).astype(float)
    kernel = iter(parts["subboard_kernel"])
    subboard_weights = np.zeros((32, 91))
    for i in range(32):
        for j in range(91):
            if mask[i, j]:
                subboard_weights[i, j] = next(kernel)
    h = np.tanh(x @ subboard_weights + parts["subboard_bias"])
    h = np.tanh(h @ parts["dense1_kernel"] + parts["dense1_bias"])
    h = np.tanh(h @ parts["dense2_kernel"] + parts["dense2_bias"])
    return np.tanh(h @ parts["output_kernel"] + parts["output_bias"][0] + x.sum(axis=1))


def test_network_evaluator_follows_the_layout_and_the_king_value():
    rng = np.random.default_rng(1)
    flat = network.random_weights(rng)
    codes = rng.integers(-2, 3, (9, 32)).astype(np.int8)
    evaluator = network.NetworkEvaluator(flat, 2.5)
    values = evaluator.evaluate_codes(codes)
    assert values.shape == (9,) and values.dtype == np.float64 and np.all(np.abs(values) <= 1)
    np.testing.assert_allclose(values, reference_value(flat, 2.5, codes), atol=1e-12)
    black, white, kings = [bitboard(5, 18)], [bitboard(30, 9)], [bitboard(18, 9)]
    np.testing.assert_array_equal(evaluator.evaluate(black, white, kings, 1),
                                  evaluator.evaluate_codes(network.board_codes(black, white, kings, 1)))


def test_king_value_matters_only_when_kings_are_on_the_board():
    flat = network.random_weights(np.random.default_rng(2))
    low, high = network.NetworkEvaluator(flat, 1.2), network.NetworkEvaluator(flat, 2.8)
    men_only = network.board_codes([START_BLACK], [START_WHITE], [0], 0)
    assert low.evaluate_codes(men_only)[0] == high.evaluate_codes(men_only)[0]
    with_king = network.board_codes([bitboard(5)], [bitboard(30)], [bitboard(5)], 0)
    assert low.evaluate_codes(with_king)[0] != high.evaluate_codes(with_king)[0]


def test_piece_count_orders_material_and_stays_inside_minus_one_one():
    evaluator = network.PieceCountEvaluator()  # kings 1.5
    positions = [  # (black, white, kings): Black's material minus White's
        (bitboard(1), bitboard(30, 31, 32), bitboard(30, 31, 32)),  # 1 - 4.5
        (bitboard(1), bitboard(30, 31), 0),  # -1
        (bitboard(1), bitboard(30), 0),  # 0
        (bitboard(1), bitboard(30), bitboard(1)),  # 0.5
        (bitboard(1, 2), bitboard(30), 0),  # 1
        (bitboard(1, 2), bitboard(30), bitboard(1)),  # 1.5
        (bitboard(*range(1, 13)), 0, bitboard(*range(1, 13))),  # 18
    ]
    values = evaluator.evaluate(*zip(*positions), 0)
    assert np.all(np.diff(values) > 0) and np.all(np.abs(values) < 1)
    assert values[2] == 0
    from_white = evaluator.evaluate(*zip(*positions), 1)
    np.testing.assert_allclose(from_white, -values)
