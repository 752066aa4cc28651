"""SGF in bounded memory: the game-tree splitter (collections read a tree at a time, in chunks), the
limits that refuse pathological files with a reason, charsets that cannot be used, and FF[3] identifiers."""

import io
import re
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go import sgf
from convsuite.suites.go.board import BLACK, WHITE
from convsuite.suites.go.sgf import SgfError, SkipLog, decode_sgf_bytes, iter_games, iter_sgf_texts, parse_sgf

GNUGO_ARCHIVE = Path(__file__).resolve().parents[3] / "data" / "go" / "gnugo_3.8.orig.tar.gz"


def pt(point: str, size: int) -> int:
    """An SGF point ("dd": column, row) as a board int."""
    return (ord(point[1]) - 97) * size + (ord(point[0]) - 97)


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Read, decode and scan a few characters at a time, so trees, values and escapes straddle every boundary."""
    def use(read: int, scan: int, head: int = 1) -> None:
        monkeypatch.setattr(sgf, "READ_CHUNK_BYTES", read)
        monkeypatch.setattr(sgf, "SCAN_CHARS", scan)
        monkeypatch.setattr(sgf, "_HEAD_BYTES", head)
    return use


def read_all(path, **kwargs) -> tuple[list, SkipLog]:
    log = SkipLog(max_examples=100)
    return list(iter_games(path, skip=log, check_legal=False, **kwargs)), log


def view(games) -> list:
    return [(g.name, g.size, g.moves, g.players, g.properties) for g in games]


# ---------------------------------------------------------------------------------------------
# Splitting a collection

# Two games with junk around them; values hold '(' ')' ';' '[' escaped ']' and '\\', one tree has variations.
COLLECTION = ("\ufeffFrom: a mail header (with parentheses)\n\n"
              "(;GM[1]SZ[9]C[a \\] (b) ;[ c\\\\]PB[Zoë]\n;B[aa]\n(;W[bb]C[x)(])(;W[cc]))\n"
              "-- a signature (not a game\n"
              "( \n ;SZ[9]GN[second\\)]PW[x];B[ee];W[dd])\ntrailing junk )(")


def test_a_collection_splits_into_its_trees_whatever_the_chunks(tmp_path, tiny_chunks):
    path = tmp_path / "two.sgf"
    path.write_bytes(COLLECTION.encode("utf-8"))
    games, log = read_all(path)
    assert [g.name for g in games] == ["two.sgf#0", "two.sgf#1"] and log.skipped == 0
    first, second = games
    assert first.properties["C"] == ["a ] (b) ;[ c\\"] and first.players["PB"] == "Zoë"
    assert first.moves == [(BLACK, pt("aa", 9)), (WHITE, pt("bb", 9))]  # the main line follows the first variation
    assert second.properties["GN"] == ["second)"] and second.moves == [(BLACK, pt("ee", 9)), (WHITE, pt("dd", 9))]
    with pytest.raises(SgfError, match="line 6, column 1 .* between game trees"):
        parse_sgf(COLLECTION)  # the whole-text reader is strict about text between trees; the stream skips it
    roots = parse_sgf(COLLECTION.replace("-- a signature (not a game\n", ""))
    assert len(roots) == 2
    assert [child.properties for child in roots[0].children[0].children] == [
        {"W": ["bb"], "C": ["x)("]}, {"W": ["cc"]}]
    expected = view(games)
    for read, scan in [(1, 1), (2, 3), (3, 2), (5, 7), (7, 4)]:
        tiny_chunks(read, scan)
        again, log = read_all(path)
        assert view(again) == expected and log.skipped == 0, (read, scan)


def test_a_file_with_one_tree_keeps_its_name_and_errors_name_the_tree(tmp_path, tiny_chunks):
    (tmp_path / "one.sgf").write_bytes(b"(;SZ[9];B[aa])\n")
    (tmp_path / "three.sgf").write_bytes(b"(;SZ[9];B[aa])(;SZ[9];B[aa];W[aa])(;SZ[9];W[bb])")
    tiny_chunks(4, 3)
    log = SkipLog()
    games = list(iter_games(tmp_path, skip=log))
    assert [g.name for g in games] == ["one.sgf", "three.sgf#0", "three.sgf#2"]
    assert log.reasons == Counter({"illegal move": 1}) and log.examples[0].startswith("three.sgf#1: move 2")


def test_parse_errors_give_the_place_in_the_file_not_in_the_tree(tmp_path):
    text = "(;SZ[9];B[aa])\n\n  (;SZ[9]\n;B[bb]*)"
    with pytest.raises(SgfError, match=r"at line 4, column 7 \(offset 32\): unexpected character '\*'"):
        parse_sgf(text)
    (tmp_path / "c.sgf").write_text(text + "\n(;SZ[9];W[cc])")
    games, log = read_all(tmp_path / "c.sgf")
    assert [g.name for g in games] == ["c.sgf#0", "c.sgf#2"]  # only the broken tree is lost
    assert log.examples == ["c.sgf#1: malformed SGF at line 4, column 7 (offset 32): unexpected character '*'; "
                            "only properties like 'B[dd]', ';', '(' and ')' may appear inside a game tree."]


@pytest.mark.parametrize("data, words", [
    (b"(;SZ[9];B[aa]\n;C[never closed", ["line 3, column 3 (offset 25): the value of property C opened by '['"]),
    (b"(;SZ[9](;B[aa];W[bb]", ["line 2, column 1 (offset 9): the game tree starting here is cut short, 2 '('"]),
])
def test_an_unclosed_value_or_tree_at_the_end_is_malformed_and_says_where_it_started(tmp_path, tiny_chunks, data,
                                                                                    words):
    path = tmp_path / "cut.sgf"
    path.write_bytes(b"(;SZ[9])\n" + data)
    for read, scan in [(1 << 18, 1 << 18), (3, 2)]:
        tiny_chunks(read, scan)
        games, log = read_all(path)
        assert [g.name for g in games] == ["cut.sgf#0"] and log.reasons == Counter({"malformed SGF": 1})
        assert log.examples[0].startswith("cut.sgf#1: malformed SGF at ")
        for word in words:
            assert word in log.examples[0], log.examples[0]


# ---------------------------------------------------------------------------------------------
# Limits: pathological files are refused with a reason, and reading goes on

def _limited(monkeypatch, **limits) -> None:
    for key, value in limits.items():
        monkeypatch.setattr(sgf, key, value)


PATHOLOGICAL = {
    # the inputs, scaled down with the limits: deep '(;' nesting, an unclosed value of escaped ']'
    "deep.sgf": (b"(;" * 5000, {"MAX_VARIATION_DEPTH": 100}, "variations are nested more than 100 deep"),
    "escapes.sgf": (b"(;GM[1]C[" + b"\\]" * 5000, {"MAX_VALUE_CHARS": 1000},
                    "the value opened by '[' at line 1, column 9 (offset 8) is longer than 1,000 characters"),
    "long.sgf": (b"(;SZ[19]" + b";B[aa];W[bb]" * 500 + b")", {"MAX_GAME_CHARS": 3000},
                 "the game tree starting at line 1, column 1 (offset 0) is longer than 3,000 characters"),
    "nodes.sgf": (b"(;SZ[19]" + b";B[]" * 60 + b")", {"MAX_NODES": 50}, "has more than 50 nodes"),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
@pytest.mark.parametrize("chunks", ["default", "tiny"])
def test_pathological_files_are_skipped_with_the_limit_and_the_next_file_is_read(tmp_path, monkeypatch, tiny_chunks,
                                                                                  name, chunks):
    data, limits, words = PATHOLOGICAL[name]
    _limited(monkeypatch, **limits)
    if chunks == "tiny":
        tiny_chunks(7, 5)
    (tmp_path / name).write_bytes(data)
    (tmp_path / "zz_good.sgf").write_bytes(b"(;SZ[9];B[aa];W[bb])")
    games, log = read_all(tmp_path)
    assert [g.name for g in games] == ["zz_good.sgf"]
    assert log.reasons == Counter({"oversized SGF": 1})
    [example] = log.examples
    assert example.startswith(f"{name}: ") and words in example and "raise convsuite.suites.go.sgf.MAX_" in example
    assert example.count(";") == 1 and example.endswith(".")  # one sentence: what is wrong; what to do
    with pytest.raises(SgfError, match=re.escape(words)) as info:
        parse_sgf(data.decode())
    assert info.value.reason == "oversized SGF"


@pytest.mark.parametrize("broken, limits", [
    (b"(;GM[1]C[" + b"x" * 500 + b"])", {"MAX_VALUE_CHARS": 100}),
    (b"(;GM[1]C[" + b"\\]" * 500 + b"(;)" * 50 + b"])", {"MAX_VALUE_CHARS": 100}),
    (b"(;GM[1]" + b"(;B[aa]" * 150 + b"C[(]" + b")" * 150 + b")", {"MAX_VARIATION_DEPTH": 100}),
    (b"(;GM[1]" + b"(;B[aa]C[\\)])" * 200 + b")", {"MAX_GAME_CHARS": 1000}),
    # passed over in bulk up to the '\\' in C[...], which must stay inside the value
    (b"(;GM[1]" + b";B[aa];W[bb]" * 800 + b"C[x\\])(;B[dd])];B[cc])", {"MAX_GAME_CHARS": 1000}),
])
@pytest.mark.parametrize("chunks", [(1 << 18, 1 << 18), (9, 4), (5000, 5000)])
def test_the_trees_after_an_oversized_one_are_still_read(tmp_path, monkeypatch, tiny_chunks, broken, limits, chunks):
    _limited(monkeypatch, **limits)
    tiny_chunks(*chunks)  # in 5000-character pieces a limit is found at the end of one and the rest passed over
    (tmp_path / "mixed.sgf").write_bytes(b"(;SZ[9];B[cc])\n" + broken + b"\n(;SZ[9]C[x];B[aa];W[bb])")
    games, log = read_all(tmp_path / "mixed.sgf")
    assert [g.name for g in games] == ["mixed.sgf#0", "mixed.sgf#2"]
    assert games[1].moves == [(BLACK, pt("aa", 9)), (WHITE, pt("bb", 9))]
    assert log.reasons == Counter({"oversized SGF": 1}) and log.examples[0].startswith("mixed.sgf#1: ")


def test_limits_are_inclusive_and_count_nodes_not_semicolons(monkeypatch):
    _limited(monkeypatch, MAX_NODES=50, MAX_VALUE_CHARS=40, MAX_GAME_CHARS=500)
    text = "(;SZ[19]C[" + ";" * 40 + "]" + ";B[]" * 49 + ")"  # 50 nodes, a 40-character value, 249 characters
    [root] = parse_sgf(text)
    assert sum(1 for _ in root.main_line()) == 50 and root.properties["C"] == [";" * 40]
    with pytest.raises(SgfError, match="more than 50 nodes"):
        parse_sgf(text.replace(")", ";W[])"))
    with pytest.raises(SgfError, match="longer than 40 characters"):
        parse_sgf(text.replace("C[", "C[;"))


# ---------------------------------------------------------------------------------------------
# Charsets

def test_unusable_charsets_fall_back_and_never_raise():
    for label in [b"undefined", b"utf-8\x00", b"\x00", b"base64", b"rot13", b"utf-16", b"utf-7", b"unicode_escape",
                  b"no-such-charset", b"hex"]:
        data = b"(;CA[" + label + b"]PB[J\xc3\xa9r\xc3\xb4me]C[\\\\n +AGE-])"
        assert decode_sgf_bytes(data) == "(;CA[" + label.decode("latin-1") + "]PB[Jérôme]C[\\\\n +AGE-])", label
    assert decode_sgf_bytes("(;CA[UTF-8]PB[é])".encode("latin-1")) == "(;CA[UTF-8]PB[é])"
    assert decode_sgf_bytes("(;PB[中])".encode("utf-16")) == "(;PB[中])"  # with its BOM


def test_bad_charsets_are_read_or_skipped_with_a_reason_and_the_collection_goes_on(tmp_path, tiny_chunks):
    files = {
        "a_undefined.sgf": b"(;CA[undefined]SZ[9]PB[x];B[aa])",
        "b_nul.sgf": b"(;CA[utf\x00-8]SZ[9]PB[\xc3\xa9];B[aa])",
        "c_latin1_as_utf8.sgf": "(;CA[UTF-8]SZ[9]PB[Hüß];B[aa])".encode("latin-1"),
        "d_sjis.sgf": "(;CA[SJIS]SZ[9]PB[表示]C[能\\]];B[aa])".encode("cp932"),  # trail bytes 0x5C: '\\'
        "e_binary.sgf": bytes(range(256)) * 4,
        "f_nul_bytes.sgf": b"\x00" * 100,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    expected_names = {"a_undefined.sgf": "x", "b_nul.sgf": "é", "c_latin1_as_utf8.sgf": "Hüß", "d_sjis.sgf": "表示"}
    for read, scan, head in [(1 << 18, 1 << 18, 1 << 16), (3, 2, 16)]:  # 16: the charset is chosen on CA[...]
        tiny_chunks(read, scan, head)                                    # alone, the rest decoded as it comes
        games, log = read_all(tmp_path)
        assert {g.name: g.players["PB"] for g in games} == expected_names
        assert next(g for g in games if g.name == "d_sjis.sgf").properties["C"] == ["能]"]
        assert log.reasons == Counter({"malformed SGF": 2})
        assert all("no game tree '(;' found" in e for e in log.examples)


def test_a_tree_whose_bytes_do_not_decode_past_the_head_is_read_again_on_its_own(tmp_path, tiny_chunks):
    data = ("(;SZ[9]PB[Zoë];B[aa])\n" * 3).encode("utf-8") + "(;SZ[9]PB[Zoë];B[aa])".encode("latin-1")
    (tmp_path / "mixed.sgf").write_bytes(data + "(;SZ[9]PB[中];B[aa])".encode("utf-8"))
    tiny_chunks(16, 16, head=16)  # the charset is chosen on the first tree (UTF-8) before the Latin-1 one is seen
    games, log = read_all(tmp_path / "mixed.sgf")
    assert [g.players["PB"] for g in games] == ["Zoë", "Zoë", "Zoë", "Zoë", "中"] and log.skipped == 0


# ---------------------------------------------------------------------------------------------
# FF[3] identifiers

def test_ff3_lowercase_identifiers_read_as_their_uppercase_letters(tmp_path, tiny_chunks):
    data = (b"(;FF[3]GaMe[1]SiZe[19]AddBlack[pd][dp]AddWhite[dd]WhiteRank[3d]BlackRank[2k]PlayerBlack[Lee]"
            b"PlayerWhite[Cho]KoMi[0.5]REsult[W+R]\n;White[qq];Black[pp]Comment[nice])")
    (tmp_path / "old.sgf").write_bytes(data)
    tiny_chunks(5, 3)
    [game], log = read_all(tmp_path / "old.sgf")
    assert log.skipped == 0 and game.name == "old.sgf"
    assert {k: v for k, v in game.properties.items() if k in ("FF", "GM", "SZ", "AB", "AW")} == {
        "FF": ["3"], "GM": ["1"], "SZ": ["19"], "AB": ["pd", "dp"], "AW": ["dd"]}
    assert game.players == {"PB": "Lee", "PW": "Cho", "BR": "2k", "WR": "3d"}
    assert (game.komi, game.winner, game.first_player) == (0.5, WHITE, WHITE)
    assert game.setup_black == [pt("pd", 19), pt("dp", 19)] and game.moves[1] == (BLACK, pt("pp", 19))


# ---------------------------------------------------------------------------------------------
# Archives and real games

def test_a_zip_member_that_cannot_be_read_is_skipped_and_the_others_are_read(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("a.sgf", "b.sgf", "c.sgf"):
            archive.writestr(name, f"(;SZ[9];B[{name[0]}a])")
    data = bytearray(buffer.getvalue())
    # mark b.sgf encrypted (flag bit 0) in its local header and its central directory entry
    for signature, flags, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while data[at + name_at:at + name_at + 5] != b"b.sgf":
            at = data.find(signature, at + 1)
        data[at + flags] |= 1
    (tmp_path / "games.zip").write_bytes(bytes(data))
    games, log = read_all(tmp_path / "games.zip")
    assert [g.name for g in games] == ["a.sgf", "c.sgf"]
    assert log.reasons == Counter({"unreadable file": 1}) and "b.sgf: this member of" in log.examples[0]
    assert "encrypted" in log.examples[0]
    with pytest.raises(ConvsuiteError, match="b.sgf: this member of"):
        list(iter_sgf_texts(tmp_path / "games.zip"))


def test_gnu_go_games_read_the_same_as_before_in_small_chunks_and_as_one_collection(tmp_path, tiny_chunks):
    if not GNUGO_ARCHIVE.exists():  # scripts/setup.sh fetches it: missing is a failed install, not a skip
        pytest.fail(f"{GNUGO_ARCHIVE} is missing; run scripts/setup.sh (it fetches GNU Go's Debian source archive)")
    games, log = read_all(GNUGO_ARCHIVE)
    # what the reader before the splitter (whole files, one parse each) read from this archive
    assert len(games) == 1756 and log.reasons == Counter({"setup after first move": 7, "malformed SGF": 3})
    reference = view(games)

    # one file holding the text of every file that parses, in order: the same games, named by their place in it
    texts = {}
    for name, text in iter_sgf_texts(GNUGO_ARCHIVE):
        try:
            parse_sgf(text)
        except SgfError:
            continue
        texts[name] = text
    (tmp_path / "all.sgf").write_text("\n".join(texts.values()), encoding="utf-8")
    tiny_chunks(4096, 1000)
    joined, joined_log = read_all(tmp_path / "all.sgf")
    assert len(texts) == 1763 and joined[0].name == "all.sgf#0"  # less an empty file and a truncated one
    assert [view([g])[0][1:] for g in joined] == [r[1:] for r in reference if r[0].split("#")[0] in texts]
    assert joined_log.reasons == Counter({"setup after first move": 7, "malformed SGF": 1})  # a node with B and W


def test_a_damaged_tar_loses_only_its_rest(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for i in range(40):
            data = f"(;SZ[9]C[{'x' * 3000 * i}];B[aa])".encode()
            info = tarfile.TarInfo(f"g{i:02d}.sgf")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "z.sgf").write_bytes(b"(;SZ[9];B[aa])")
    log = SkipLog()
    games = list(iter_games([tmp_path / "cut.tar.gz", tmp_path / "z.sgf"], skip=log))
    assert 0 < len(games) - 1 < 40 and games[-1].name == "z.sgf"
    assert log.reasons == Counter({"unreadable archive": 1}) and "could not be read near member g" in log.examples[0]
