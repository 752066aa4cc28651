"""SGF reading, writing and streaming: the FF[4] grammar's corners, malformed input, round trips,
agreement with sgfmill (an independent reader), and the real SGF games in GNU Go's source archive."""

import dataclasses
import io
import random
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.requirements import require

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.board import BLACK, PASS, WHITE, Board
from convsuite.suites.go.sgf import (
    GameRecord,
    IllegalGameError,
    SgfError,
    SgfNode,
    SkipLog,
    decode_sgf_bytes,
    iter_games,
    iter_sgf_texts,
    parse_sgf,
    read_game,
    record_to_sgf,
    replay,
    serialize_sgf,
)

sgfmill_sgf = require("sgfmill.sgf", "go")  # cross-checks our reader

GNUGO_ARCHIVE = Path(__file__).resolve().parents[3] / "data" / "go" / "gnugo_3.8.orig.tar.gz"


def pt(sgf: str, size: int) -> int:
    """An SGF point ("dd": column, row) as a board int."""
    return (ord(sgf[1]) - 97) * size + (ord(sgf[0]) - 97)


def shape(node: SgfNode):
    """A tree as nested (first property value or '', [children]) for compact comparisons."""
    label = ";".join(f"{k}{v}" for k, v in node.properties.items())
    return (label, [shape(c) for c in node.children])


# ---------------------------------------------------------------------------------------------
# Random legal games, played with the rules engine (used by the round trips, sgfmill and streaming)

def random_game(size: int, moves: int, seed: int, handicap: int = 0, pass_rate: float = 0.05,
                repeat_rate: float = 0.0, komi: float = 6.5) -> tuple[GameRecord, Board]:
    rng = random.Random(seed)
    board = Board(size, komi=komi, superko=False)
    setup = rng.sample(range(size * size), handicap) if handicap else []
    if setup:
        board.place(setup, BLACK)
        board.to_play = WHITE
    first = board.to_play
    played = []
    for _ in range(moves):
        color = board.to_play if rng.random() >= repeat_rate else -board.to_play  # same colour twice
        legal = [int(p) for p in np.flatnonzero(board.legal_moves(color))]
        rng.shuffle(legal)
        move = next((p for p in legal if not board.is_eye(p, color)), PASS)
        if rng.random() < pass_rate:
            move = PASS
        board.play(move, color)
        played.append((color, move))
    result = rng.choice(["B+R", "W+Resign", "B+3.5", "W+0.5", "0", "Void", "?", "B+T", "W+F", ""])
    winner = BLACK if result.startswith("B+") else WHITE if result.startswith("W+") else 0
    record = GameRecord(size=size, komi=komi, result=result, winner=winner, setup_black=setup, setup_white=[],
                        first_player=first, moves=played, handicap=handicap,
                        players={"PB": f"bot {seed}", "PW": "Zoë ]\\ test"})
    return record, board


# ---------------------------------------------------------------------------------------------
# Parsing

def test_variations_give_the_tree_shape_and_the_main_line_follows_first_children():
    text = "(;GM[1]SZ[9];B[aa]\n  (;W[bb];B[cc] (;W[dd])\n(;W[ee]) )\n(;W[ff])(;W[gg] ;B[hh])\n)"
    [root] = parse_sgf(text)
    assert shape(root) == ("GM['1'];SZ['9']", [("B['aa']", [
        ("W['bb']", [("B['cc']", [("W['dd']", []), ("W['ee']", [])])]),
        ("W['ff']", []),
        ("W['gg']", [("B['hh']", [])]),
    ])])
    record = read_game(root)
    assert [m for _, m in record.moves] == [pt("aa", 9), pt("bb", 9), pt("cc", 9), pt("dd", 9)]
    assert parse_sgf(serialize_sgf(root)) == [root]


def test_escapes_soft_line_breaks_and_whitespace_between_tokens():
    text = ("(;GM[1]\n  C[a \\] b \\\\ c \\: d\\\nsoft\\\r\nbreak\nhard]  GN [x\\\\]\r\n"
            "\t; B  [dd] \n ;W[]\n)")
    [root] = parse_sgf(text)
    assert root.properties["C"] == ["a ] b \\ c : dsoftbreak\nhard"]
    assert root.properties["GN"] == ["x\\"]
    assert [n.properties for n in root.main_line()][1:] == [{"B": ["dd"]}, {"W": [""]}]
    written = serialize_sgf(root)
    assert "a \\] b \\\\ c" in written
    assert parse_sgf(written) == [root]


def test_bom_and_junk_outside_the_game_trees_are_ignored():
    text = "\ufeffFrom: someone\nSubject: game (see below)\n\n(;GM[1];B[aa])\n(;GM[1];W[bb])\n-- \nsig )("
    roots = parse_sgf(text)
    assert [r.children[0].properties for r in roots] == [{"B": ["aa"]}, {"W": ["bb"]}]


def test_multiple_games_in_one_collection():
    roots = parse_sgf("(;SZ[9]KM[5.5];B[aa])\n(;SZ[13];B[bb];W[cc])(;SZ[19])")
    records = [read_game(r) for r in roots]
    assert [(r.size, r.komi, len(r.moves)) for r in records] == [(9, 5.5, 1), (13, 0.0, 2), (19, 0.0, 0)]


def test_ff3_lowercase_letters_in_identifiers_are_dropped():
    [root] = parse_sgf("(;GaMe[1]SiZe[9]AddBlack[aa][bb]AddWhite[cc]Komi[0.5];Black[dd];White[ee])")
    assert set(root.properties) == {"GM", "SZ", "AB", "AW", "K"}  # 'Komi' has only its K uppercase
    record = read_game(root)
    assert record.setup_black == [pt("aa", 9), pt("bb", 9)] and record.setup_white == [pt("cc", 9)]
    assert record.moves == [(BLACK, pt("dd", 9)), (WHITE, pt("ee", 9))]


def test_compressed_point_lists_expand_to_rectangles():
    [root] = parse_sgf("(;SZ[9]AB[bc:cd][aa]AW[ih:gi];AE[cd];B[ee])")
    record = read_game(root)
    # cd is cleared by the later AE
    assert sorted(record.setup_black) == sorted([pt(p, 9) for p in ("aa", "bc", "cc", "bd")])
    assert sorted(record.setup_white) == sorted(pt(c + r, 9) for c in "ghi" for r in "hi")


def test_passes_as_empty_value_and_as_tt_up_to_19x19():
    record = read_game(parse_sgf("(;SZ[19];B[];W[tt];B[ss];W[ ])")[0])
    assert record.moves == [(BLACK, PASS), (WHITE, PASS), (BLACK, 360), (WHITE, PASS)]
    big = read_game(parse_sgf("(;SZ[21];B[tt];W[])")[0])
    assert big.moves == [(BLACK, 19 * 21 + 19), (WHITE, PASS)]  # on 21x21, tt is a point


def test_handicap_stones_and_white_moving_first():
    text = "(;GM[1]FF[4]SZ[19]HA[2]KM[0.5]AB[pd][dp];W[qp];B[dd])"
    record = read_game(parse_sgf(text)[0])
    assert record.handicap == 2 and record.komi == 0.5
    assert record.setup_black == [pt("pd", 19), pt("dp", 19)]
    assert record.first_player == WHITE
    assert record.moves[0] == (WHITE, pt("qp", 19))
    assert replay(record).to_play == WHITE  # B played last


def test_player_to_move_from_pl_then_the_first_move_then_black():
    assert read_game(parse_sgf("(;PL[W]AB[aa];B[bb])")[0]).first_player == WHITE
    assert read_game(parse_sgf("(;AB[aa];W[bb])")[0]).first_player == WHITE
    assert read_game(parse_sgf("(;AB[aa])")[0]).first_player == BLACK
    assert read_game(parse_sgf("(;SZ[9];AB[aa]PL[w];AW[cc])")[0]).setup_white == [pt("cc", 9)]  # pre-move setup


def test_root_properties_size_komi_result_players():
    text = "(;GM[1]SZ[19:19]KM[7.5]RE[W+2.5]PB[Lee]PW[Cho]BR[9p]WR[9d]DT[2001-02-03]HA[0])"
    record = read_game(parse_sgf(text)[0], name="x.sgf")
    assert (record.size, record.komi, record.result, record.winner, record.handicap) == (19, 7.5, "W+2.5", WHITE, 0)
    assert record.players == {"PB": "Lee", "PW": "Cho", "BR": "9p", "WR": "9d"}
    assert record.properties["DT"] == ["2001-02-03"] and record.name == "x.sgf"
    default = read_game(parse_sgf("(;)")[0])
    assert (default.size, default.komi, default.result, default.winner) == (19, 0.0, "", 0)


@pytest.mark.parametrize("result, winner", [
    ("B+R", BLACK), ("B+Resign", BLACK), ("B+T", BLACK), ("B+F", BLACK), ("B+12.5", BLACK), ("B+", BLACK),
    ("W+R", WHITE), ("W+Resign", WHITE), ("W+Time", WHITE), ("W+0.5", WHITE), ("w+3", WHITE),
    ("0", 0), ("Draw", 0), ("Void", 0), ("?", 0), ("", 0),
])
def test_winner_from_the_result_forms(result, winner):
    text = f"(;RE[{result}])" if result else "(;)"
    record = read_game(parse_sgf(text)[0])
    assert record.winner == winner and record.result == result


# ---------------------------------------------------------------------------------------------
# Malformed input

@pytest.mark.parametrize("text, words", [
    ("(;GM[1];B[aa];C[unclosed comment)", ["never closed by ']'", "property C", "line 1"]),
    ("(;GM[1];B[aa]", ["'(' not closed by ')'"]),
    ("(;GM[1](B[aa]))", ["'(' not followed by ';'", "column 9"]),
    ("(B[aa])", ["no game tree '(;'"]),
    ("", ["empty"]),
    ("(;GM[1];B[aa]\n;W[bb]*)", ["unexpected character '*'", "line 2"]),
    ("(;GM[1])garbage(;GM[1])", ["between game trees", "'garbage"]),
    ("(;GM[1];B)", ["property B has no value"]),
    ("(;GM[1](;B[aa]) ;W[bb])", ["after a variation", "column 17"]),
    ("(;GM[1];[aa])", ["without a property identifier"]),
    ("(;GM[1];b[aa])", ["no uppercase letter", "column 9"]),
    ("(;GM[1];B[aa];C[x][y)", ["property C", "never closed"]),
    ("(;GM[1];B[aa])(;W[bb]C)", ["property C has no value", "column 22"]),
])
def test_malformed_sgf_raises_an_sgf_error_that_says_where(text, words):
    with pytest.raises(SgfError) as info:
        parse_sgf(text, name="bad.sgf")
    message = str(info.value)
    assert message.startswith("bad.sgf: ")
    for word in words:
        assert word in message
    assert isinstance(info.value, ConvsuiteError)


@pytest.mark.parametrize("text, words, reason", [
    ("(;SZ[nine])", ["SZ[nine]"], "malformed SGF"),
    ("(;SZ[19:13])", ["SZ[19:13]", "not square"], "non-square board"),
    ("(;SZ[30])", ["SZ[30]", "2..25"], "board size 30 (unsupported)"),
    ("(;KM[six])", ["KM[six]"], "malformed SGF"),
    ("(;HA[two])", ["HA[two]"], "malformed SGF"),
    ("(;GM[2])", ["not a Go game", "GM[2]"], "not Go"),
    ("(;SZ[9];B[aa]W[bb])", ["node 1 has both B[aa] and W[bb]"], "malformed SGF"),
    ("(;SZ[9];B[aa];W[jj])", ["move 2 W[jj]", "9x9"], "off-board move"),
    ("(;SZ[9];B[aa];W[abc])", ["move 2 W[abc]"], "off-board move"),
    ("(;SZ[9];B[aa][bb])", ["2 values"], "malformed SGF"),
    ("(;SZ[9]AB[zz])", ["AB[zz]"], "off-board point"),
    ("(;SZ[9];B[aa];AB[cc];W[dd])", ["setup stones", "after move 1"], "setup after first move"),
    ("(;PL[X])", ["PL[X]"], "malformed SGF"),
])
def test_games_that_cannot_be_read_raise_an_sgf_error_with_values(text, words, reason):
    with pytest.raises(SgfError) as info:
        read_game(parse_sgf(text)[0], name="g.sgf")
    assert str(info.value).startswith("g.sgf: ")
    for word in words:
        assert word in str(info.value)
    assert info.value.reason == reason


# ---------------------------------------------------------------------------------------------
# Writing

def random_tree(rng: random.Random, depth: int = 0) -> SgfNode:
    alphabet = "ab]\\[;()\n\r :\t\u00e9\u4e2d"
    props = {}
    for _ in range(rng.randint(0, 4)):
        key = "".join(rng.choice("ABCDGKLMNPQRSTW") for _ in range(rng.randint(1, 3)))
        props[key] = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
                      for _ in range(rng.randint(1, 3))]
    children = [random_tree(rng, depth + 1) for _ in range(rng.choice([0, 1, 1, 1, 2, 3]) if depth < 8 else 0)]
    return SgfNode(props, children)


@pytest.mark.parametrize("seed", range(8))
def test_writer_round_trips_random_trees_with_brackets_and_backslashes(seed):
    rng = random.Random(seed)
    roots = [random_tree(rng) for _ in range(rng.randint(1, 3))]
    roots[0].properties["C"] = ["ends with a backslash \\", "]", "\\]", "\\\nnot a soft break", ""]
    text = serialize_sgf(roots)
    assert parse_sgf(text) == roots
    assert serialize_sgf(parse_sgf(text)) == text


def test_writer_handles_a_long_main_line_without_recursion():
    root = node = SgfNode({"SZ": ["19"]})
    for i in range(5000):
        node.children.append(SgfNode({"B" if i % 2 == 0 else "W": [""]}))
        node = node.children[0]
    [back] = parse_sgf(serialize_sgf(root))
    assert back == root and sum(1 for _ in back.main_line()) == 5001


def test_writer_rejects_what_it_cannot_write():
    with pytest.raises(SgfError, match="identifier 'b'"):
        serialize_sgf(SgfNode({"b": ["aa"]}))
    with pytest.raises(SgfError, match="non-empty list"):
        serialize_sgf(SgfNode({"C": []}))
    with pytest.raises(SgfError, match="float"):
        serialize_sgf(SgfNode({"KM": [7.5]}))


@pytest.mark.parametrize("size, handicap, seed", [(9, 0, 1), (19, 4, 2), (13, 0, 3), (19, 0, 4), (5, 2, 5)])
def test_record_to_sgf_round_trips(size, handicap, seed):
    record, _ = random_game(size, 60, seed, handicap=handicap, pass_rate=0.1, repeat_rate=0.05)
    text = record_to_sgf(record, DT="2024-05-01", C="a comment ] with \\ escapes")
    back = read_game(parse_sgf(text)[0], name="back")
    assert back == record  # equality leaves out name and raw properties
    assert back.properties["DT"] == ["2024-05-01"] and back.properties["C"] == ["a comment ] with \\ escapes"]
    again = read_game(parse_sgf(record_to_sgf(back))[0])
    assert again == back and again.properties == back.properties  # the raw root properties are kept


def test_record_to_sgf_writes_pl_only_when_needed_and_refuses_bad_moves():
    record = GameRecord(size=9, komi=7.5, moves=[(BLACK, 0), (WHITE, PASS)])
    text = record_to_sgf(record)
    assert "PL[" not in text and "KM[7.5]" in text and ";W[]" in text
    white_first = dataclasses.replace(record, first_player=WHITE)
    assert read_game(parse_sgf(record_to_sgf(white_first))[0]).first_player == WHITE
    with pytest.raises(SgfError, match="move 1"):
        record_to_sgf(GameRecord(size=9, moves=[(BLACK, 81)]))


# ---------------------------------------------------------------------------------------------
# sgfmill cross-checks

HAND_WRITTEN = [
    b"(;GM[1]FF[4]SZ[19]KM[6.5]RE[B+R]HA[3]AB[pd][dp][pp];W[dd];B[tt];W[];B[qq](;W[aa])(;W[bb]))",
    b"(;GaMe[1]SiZe[9]AddBlack[aa:bc]AddWhite[ee]PL[W];White[ff];Black[gg];White[tt])",
    b"(;SZ[13]KM[-3]RE[W+Resign]C[tricky \\] value \\\\ ];B[aa]\n;W[mm]\n;B[gg];W[ga];B[ag])",
    b"(;SZ[9]RE[0]KM[0.5]AB[aa][bb]AW[cc:dd];B[ee];B[ff];W[gg];W[hh])",
    b"\xef\xbb\xbfjunk (;FF[3]SZ[19]RE[Void];B[pd];W[dp];B[pq];W[dd])",
]


def sgfmill_view(data: bytes):
    """(size, komi, winner, black setup, white setup, moves) as sgfmill reads them, in our coordinates."""
    game = sgfmill_sgf.Sgf_game.from_bytes(data)
    size = game.get_size()

    def ours(rc):
        return PASS if rc is None else (size - 1 - rc[0]) * size + rc[1]  # sgfmill counts rows from the bottom

    black, white, _ = game.get_root().get_setup_stones()
    moves = []
    for node in game.get_main_sequence():
        colour, rc = node.get_move()
        if colour is not None:
            moves.append((BLACK if colour == "b" else WHITE, ours(rc)))
    winner = {"b": BLACK, "w": WHITE, None: 0}[game.get_winner()]
    return size, game.get_komi(), winner, sorted(map(ours, black)), sorted(map(ours, white)), moves


def our_view(record: GameRecord):
    return (record.size, record.komi, record.winner, sorted(record.setup_black), sorted(record.setup_white),
            record.moves)


@pytest.mark.parametrize("data", HAND_WRITTEN)
def test_reader_agrees_with_sgfmill_on_hand_written_games(data):
    record = read_game(parse_sgf(decode_sgf_bytes(data))[0])
    assert our_view(record) == sgfmill_view(data)
    assert our_view(read_game(parse_sgf(record_to_sgf(record))[0])) == sgfmill_view(
        record_to_sgf(record).encode("utf-8"))


def test_reader_and_writer_agree_with_sgfmill_on_random_legal_games():
    captured = 0
    for size, handicap, seed in [(9, 0, 10), (9, 2, 11), (9, 0, 12), (19, 0, 13), (19, 5, 14), (19, 9, 15)]:
        record, board = random_game(size, 80 if size == 9 else 220, seed, handicap=handicap, pass_rate=0.03)
        captured += board.captures[BLACK] + board.captures[WHITE]
        data = record_to_sgf(record).encode("utf-8")
        ours = read_game(parse_sgf(decode_sgf_bytes(data))[0])
        assert our_view(ours) == sgfmill_view(data) == our_view(record)
        assert (ours.players["PW"], ours.first_player) == ("Zoë ]\\ test", WHITE if handicap else BLACK)
        assert np.array_equal(replay(ours).stones, board.stones)
        # sgfmill's own writer: our reader reads its output to the same game
        game = sgfmill_sgf.Sgf_game.from_bytes(data)
        assert our_view(read_game(parse_sgf(decode_sgf_bytes(game.serialise()))[0])) == our_view(record)
    assert captured > 0  # the games did exercise captures


# ---------------------------------------------------------------------------------------------
# Replay

def test_replay_reproduces_a_known_position_with_a_capture():
    text = "(;GM[1]SZ[5]KM[0.5];B[bb];W[ab];B[ac];W[cc];B[aa];W[dd];B[];W[tt])"
    record = read_game(parse_sgf(text)[0])
    board = replay(record)
    expected = ["X....",
                ".X...",
                "X.O..",
                "...O.",
                "....."]
    symbols = {BLACK: "X", WHITE: "O", 0: "."}
    assert ["".join(symbols[int(v)] for v in row) for row in board.grid] == expected
    assert board.captures == {BLACK: 1, WHITE: 0}
    assert board.move_number == 8 and board.to_play == BLACK and board.game_over
    halfway = replay(record, upto=4)  # before B[aa] captured W[ab]
    assert halfway.stones[pt("ab", 5)] == WHITE and halfway.move_number == 4


@pytest.mark.parametrize("moves, message", [
    ("B[aa];W[bb];B[aa]", "move 3 (B A5) is illegal: the point is occupied"),
    ("B[bb];W[ab];B[ac];W[cc];B[aa];W[ab]", "move 6 (W A4) is illegal: it is suicide"),
    ("B[ba];W[ca];B[ab];W[db];B[bc];W[cc];B[];W[bb];B[cb];W[bb]", "move 10 (W B4) is illegal: it retakes a ko"),
])
def test_replay_names_the_illegal_move(moves, message):
    record = read_game(parse_sgf(f"(;SZ[5];{moves})")[0], name="k.sgf")
    with pytest.raises(IllegalGameError) as info:
        replay(record)
    assert str(info.value).startswith("k.sgf: " + message)
    assert info.value.reason == "illegal move"


def test_replay_follows_recorded_colours_not_alternation():
    record = read_game(parse_sgf("(;SZ[9];B[aa];B[bb];W[cc];W[dd];W[ee])")[0])
    board = replay(record)
    assert board.stones[pt("bb", 9)] == BLACK and board.stones[pt("ee", 9)] == WHITE and board.to_play == BLACK


# ---------------------------------------------------------------------------------------------
# Streaming

GOOD_PER_KIND = 200


def _collection_files(rng_seed: int = 0) -> tuple[dict[str, bytes], dict]:
    """A collection: GOOD_PER_KIND small legal 9x9 games, plus the awkward cases and what each should give."""
    files = {}
    for i in range(GOOD_PER_KIND):
        record, _ = random_game(9, 12 + i % 20, 1000 + i, pass_rate=0.02)
        files[f"set{i % 3}/deep{i % 2}/game{i:03d}.sgf"] = record_to_sgf(record).encode("utf-8")
    files["odd/garbage.sgf"] = b"\x00\x01 this is not SGF at all"
    files["odd/unclosed.sgf"] = b"(;GM[1]SZ[9];B[aa];W[bb"
    files["odd/occupied.sgf"] = b"(;GM[1]SZ[9];B[ee];W[dd];B[ee])"
    files["odd/chess.sgf"] = b"(;GM[3]SZ[8];B[aa])"
    files["odd/latin1.sgf"] = "(;GM[1]FF[4]CA[ISO-8859-1]SZ[9]PB[Jérôme Hüß];B[ee])".encode("latin-1")
    files["odd/latin1_no_ca.sgf"] = "(;GM[1]SZ[9]PW[Ångström];B[ee])".encode("latin-1")
    files["odd/two_games.sgf"] = b"(;GM[1]SZ[9];B[aa])(;GM[1]SZ[9];W[bb];B[cc])"
    files["odd/thirteen.sgf"] = b"(;GM[1]SZ[13];B[aa])"
    files["odd/UPPER.SGF"] = b"(;GM[1]SZ[9];B[ff])"
    files["odd/readme.txt"] = b"not an sgf file, ignored"
    expected = {
        "read": GOOD_PER_KIND + 6,  # latin1 x2, two_games x2, thirteen (no size filter), UPPER
        "reasons": Counter({"malformed SGF": 2, "illegal move": 1, "not Go": 1}),
    }
    return files, expected


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    files, expected = _collection_files()
    root = tmp_path_factory.mktemp("sgf_collection")
    folder = root / "folder"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    with tarfile.open(root / "games.tar.gz", "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo("collection/" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(root / "games.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr("collection/" + name, data)
    return root, files, expected


@pytest.mark.parametrize("kind", ["folder", "games.tar.gz", "games.zip"])
def test_iter_games_reads_the_good_games_and_counts_the_bad_ones(collection, kind):
    root, _, expected = collection
    log = SkipLog()
    games = list(iter_games(root / kind, skip=log))
    assert log.read == len(games) == expected["read"]
    assert log.reasons == expected["reasons"] and log.skipped == sum(expected["reasons"].values())
    assert len(log.examples) == log.skipped and all(":" in e for e in log.examples)
    assert any("occupied.sgf: move 3 (B E5) is illegal" in e for e in log.examples)
    by_name = {g.name.split("collection/")[-1]: g for g in games}
    assert by_name["odd/latin1.sgf"].players["PB"] == "Jérôme Hüß"
    assert by_name["odd/latin1_no_ca.sgf"].players["PW"] == "Ångström"
    assert by_name["odd/two_games.sgf#1"].moves == [(WHITE, pt("bb", 9)), (BLACK, pt("cc", 9))]
    assert "odd/UPPER.SGF" in by_name
    assert log.summary() == (f"read {expected['read']} games, skipped 4 "
                             "(malformed SGF: 2, illegal move: 1, not Go: 1)")


def test_iter_games_filters_by_size_and_length_and_can_skip_the_legality_check(collection):
    root = collection[0]
    log = SkipLog()
    games = list(iter_games([root / "games.zip"], size=9, min_moves=20, skip=log, check_legal=False))
    assert all(g.size == 9 and len(g.moves) >= 20 for g in games)
    assert log.reasons["board size 13 (wanted 9)"] == 1
    assert log.reasons["fewer than 20 moves"] > 0 and "illegal move" not in log.reasons
    assert log.read == len(games)


def test_iter_sgf_texts_lists_a_folder_recursively_and_sorted(collection):
    root, files, _ = collection
    names = [name for name, _ in iter_sgf_texts(root / "folder")]
    assert names == sorted(n for n in files if n.lower().endswith(".sgf"))
    [(name, text)] = list(iter_sgf_texts(root / "folder" / "odd" / "chess.sgf"))
    assert name == "chess.sgf" and text.startswith("(;GM[3]")


def test_a_missing_source_raises_at_once_and_a_corrupt_archive_is_counted(tmp_path, collection):
    with pytest.raises(ConvsuiteError, match="does not exist; give an .sgf file, a folder"):
        iter_games([tmp_path / "nowhere.tar.gz"])
    with pytest.raises(ConvsuiteError, match="does not exist"):
        iter_sgf_texts(tmp_path / "missing.sgf")
    data = (collection[0] / "games.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    log = SkipLog()
    games = list(iter_games(tmp_path / "cut.tar.gz", skip=log))
    assert 0 < len(games) < GOOD_PER_KIND and log.reasons["unreadable archive"] == 1


def test_decoding_follows_ca_then_utf8_then_latin1():
    assert decode_sgf_bytes("(;CA[UTF-8]PB[中国])".encode()).endswith("PB[中国])")
    assert decode_sgf_bytes("(;CA[gb2312]PB[中国])".encode("gb2312")).endswith("PB[中国])")
    assert decode_sgf_bytes("(;PB[é])".encode()) == "(;PB[é])"
    assert decode_sgf_bytes("(;CA[UTF-8]PB[é])".encode("latin-1")) == "(;CA[UTF-8]PB[é])"  # wrong CA: fallback
    assert decode_sgf_bytes(b"(;CA[no-such-charset]PB[\xff])") == "(;CA[no-such-charset]PB[\xff])"
    assert decode_sgf_bytes(b"\xef\xbb\xbf(;)") == "(;)"


def test_skip_log_summary():
    log = SkipLog(read=690)
    assert log.summary() == "read 690 games, skipped 0"
    log.add("a.sgf", "illegal move", "a.sgf: move 3 (B E5) is illegal")
    log.add("b.sgf", "malformed SGF", "bad bracket")
    log.add("c.sgf", "illegal move", "c.sgf: x")
    assert log.summary() == "read 690 games, skipped 3 (illegal move: 2, malformed SGF: 1)"
    assert log.examples == ["a.sgf: move 3 (B E5) is illegal", "b.sgf: bad bracket", "c.sgf: x"]


# ---------------------------------------------------------------------------------------------
# Real games: GNU Go 3.8's regression suite

def test_gnu_go_regression_games_stream_replay_and_agree_with_sgfmill():
    if not GNUGO_ARCHIVE.exists():  # scripts/setup.sh fetches it: missing is a failed install, not a skip
        pytest.fail(f"{GNUGO_ARCHIVE} is missing; run scripts/setup.sh (it fetches GNU Go's Debian source archive)")
    log = SkipLog()
    games = {g.name: g for g in iter_games(GNUGO_ARCHIVE, size=19, min_moves=100, skip=log)}
    print("\nGNU Go 3.8 archive, 19x19 with >= 100 moves:", log.summary())
    real = [n for n in games if n.startswith("gnugo-3.8/regression/games/")]
    assert len(real) >= 600, log.summary()
    assert log.reasons["illegal move"] <= 10 and log.reasons["malformed SGF"] <= 10, log.summary()

    chosen = set(sorted(n for n in real if "#" not in n)[::12][:50])
    compared = 0
    with tarfile.open(GNUGO_ARCHIVE, "r|gz") as tar:
        for member in tar:
            if member.name in chosen:
                data = tar.extractfile(member).read()
                assert our_view(games[member.name]) == sgfmill_view(data), member.name
                compared += 1
    assert compared == len(chosen) >= 50
