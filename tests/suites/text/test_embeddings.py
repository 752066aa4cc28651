"""Pre-trained word vectors: word2vec binary, GloVe and fastText files read to the vocabulary's exact
vectors; unknown words drawn with the found vectors' variance (Kim 2014); the padding row zero; files
streamed without keeping unneeded words; one clear error per bad file."""

import struct

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.embeddings import EmbeddingTable, embedding_help, load_embeddings

VECTORS = {
    "the": [0.5, -1.25, 2.0],
    "movie": [0.125, 0.25, -0.75],
    "great": [1.5, 3.0, -2.5],
    "naïve": [-0.5, 0.0, 4.0],
}


def write_word2vec(path, vectors, *, header=None, newline=True, tail=b""):
    dim = len(next(iter(vectors.values())))
    with open(path, "wb") as handle:
        handle.write(header if header is not None else f"{len(vectors)} {dim}\n".encode())
        for word, vector in vectors.items():
            handle.write(word.encode("utf-8") + b" " + struct.pack(f"<{len(vector)}f", *vector))
            if newline:
                handle.write(b"\n")
        handle.write(tail)
    return path


def write_text(path, vectors, *, header=True, trailing_space=False):
    dim = len(next(iter(vectors.values())))
    lines = [f"{len(vectors)} {dim}"] if header else []
    for word, vector in vectors.items():
        numbers = " ".join(repr(float(value)) for value in vector)
        lines.append(f"{word} {numbers}" + (" " if trailing_space else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(params=["bin", "bin-no-newline", "txt", "vec"])
def embedding_file(request, tmp_path):
    if request.param == "bin":
        return write_word2vec(tmp_path / "vectors.bin", VECTORS)
    if request.param == "bin-no-newline":
        return write_word2vec(tmp_path / "vectors.bin", VECTORS, newline=False)
    if request.param == "txt":
        return write_text(tmp_path / "glove.txt", VECTORS, header=False)
    return write_text(tmp_path / "wiki.vec", VECTORS, header=True, trailing_space=True)


def test_every_format_gives_the_exact_vectors_of_found_words_aligned_with_the_vocabulary(embedding_file):
    words = ["<pad>", "<unk>", "great", "the", "absent", "naïve"]
    table = load_embeddings(embedding_file, words)
    assert isinstance(table, EmbeddingTable)
    assert table.matrix.dtype == np.float32 and table.matrix.shape == (6, 3) and table.dim == 3
    np.testing.assert_array_equal(table.matrix[2], VECTORS["great"])
    np.testing.assert_array_equal(table.matrix[3], VECTORS["the"])
    np.testing.assert_array_equal(table.matrix[5], VECTORS["naïve"])
    assert table.found.tolist() == [False, False, True, True, False, True]
    assert table.coverage == pytest.approx(3 / 4)  # the padding and unknown tokens are not counted
    assert table.missing_words == ["absent"]


@pytest.mark.parametrize("name, expected", [("a.bin", "word2vec"), ("a.txt", "glove"), ("a.vec", "fasttext")])
def test_auto_format_follows_the_extension(tmp_path, name, expected):
    path = tmp_path / name
    if expected == "word2vec":
        write_word2vec(path, VECTORS)
    else:
        write_text(path, VECTORS, header=expected == "fasttext")
    assert load_embeddings(path, ["the"]).format == expected


def test_a_txt_file_with_a_header_is_read_as_headered_text(tmp_path):
    path = write_text(tmp_path / "word2vec-text.txt", VECTORS, header=True)
    table = load_embeddings(path, ["movie"])
    assert table.format == "fasttext"
    np.testing.assert_array_equal(table.matrix[0], VECTORS["movie"])


def test_an_explicit_format_overrides_the_extension(tmp_path):
    path = write_text(tmp_path / "vectors.data", VECTORS, header=False)
    np.testing.assert_array_equal(load_embeddings(path, ["the"], format="glove").matrix[0], VECTORS["the"])
    with pytest.raises(ConvsuiteError, match="vectors.data.*extension"):
        load_embeddings(path, ["the"])
    with pytest.raises(ConvsuiteError, match="Unknown embedding format 'csv'"):
        load_embeddings(path, ["the"], format="csv")


def test_padding_row_is_zero_and_not_found_even_when_the_file_has_the_padding_word(tmp_path):
    path = write_word2vec(tmp_path / "v.bin", {"<pad>": [1.0, 2.0, 3.0], **VECTORS})
    table = load_embeddings(path, ["<pad>", "the", "unseen"])
    np.testing.assert_array_equal(table.matrix[0], np.zeros(3))
    assert not table.found[0]
    assert np.any(table.matrix[2] != 0)
    # Padding is only recognised first: a vocabulary without it gets no zero row.
    assert load_embeddings(path, ["the", "<pad>"]).found.tolist() == [True, True]


def test_unknown_words_get_the_variance_of_the_found_vectors(tmp_path):
    rng = np.random.default_rng(1)
    dim = 200
    known = {f"w{i}": rng.normal(0.0, 0.4, size=dim) for i in range(300)}
    path = write_word2vec(tmp_path / "v.bin", known)
    words = ["<pad>"] + list(known) + [f"unknown{i}" for i in range(300)]
    table = load_embeddings(path, words)
    found_vectors = table.matrix[table.found].astype(np.float64)
    unknown_vectors = table.matrix[301:].astype(np.float64)
    expected_range = np.sqrt(3 * found_vectors.var(axis=0).mean())
    assert table.unknown_range == pytest.approx(expected_range, rel=1e-6)
    assert np.abs(unknown_vectors).max() <= expected_range
    assert np.abs(unknown_vectors).max() > 0.99 * expected_range
    # 60,000 uniform draws: the variance matches the found vectors' within a few percent.
    assert unknown_vectors.var() == pytest.approx(found_vectors.var(axis=0).mean(), rel=0.03)
    assert unknown_vectors.mean() == pytest.approx(0.0, abs=0.01)


def test_a_given_unknown_range_bounds_the_random_rows(embedding_file):
    table = load_embeddings(embedding_file, ["the"] + [f"x{i}" for i in range(50)], unknown_range=0.05)
    assert table.unknown_range == 0.05
    assert np.abs(table.matrix[1:]).max() <= 0.05
    np.testing.assert_array_equal(table.matrix[0], VECTORS["the"])


def test_fewer_than_two_found_vectors_fall_back_to_kims_range(tmp_path):
    path = write_word2vec(tmp_path / "v.bin", VECTORS)
    assert load_embeddings(path, ["the", "nothing", "here"]).unknown_range == 0.25
    assert load_embeddings(path, ["nothing"]).unknown_range == 0.25


def test_the_random_rows_depend_only_on_the_seed(embedding_file):
    words = ["<pad>", "the", "a", "b", "c"]
    first = load_embeddings(embedding_file, words, seed=3)
    again = load_embeddings(embedding_file, words, seed=3)
    other = load_embeddings(embedding_file, words, seed=4)
    np.testing.assert_array_equal(first.matrix, again.matrix)
    assert not np.array_equal(first.matrix[2:], other.matrix[2:])
    np.testing.assert_array_equal(first.matrix[:2], other.matrix[:2])


def test_invalid_unknown_range_is_refused(embedding_file):
    for bad in (-0.1, "wide", True):
        with pytest.raises(ConvsuiteError, match="unknown_range"):
            load_embeddings(embedding_file, ["the"], unknown_range=bad)


def test_duplicate_vocabulary_words_all_get_the_vector(embedding_file):
    table = load_embeddings(embedding_file, ["the", "movie", "the"])
    np.testing.assert_array_equal(table.matrix[0], table.matrix[2])
    assert table.found.all()


@pytest.mark.parametrize("extension", ["bin", "vec"])
def test_a_large_file_keeps_only_the_vocabularys_rows(tmp_path, extension):
    rng = np.random.default_rng(0)
    dim = 16
    many = {f"word{i}": rng.normal(size=dim).astype(np.float32) for i in range(20_000)}
    path = tmp_path / f"big.{extension}"
    if extension == "bin":
        write_word2vec(path, many)
    else:
        write_text(path, many, header=True)
    words = ["<pad>", "word19999", "word7", "missing", "word12345"]
    table = load_embeddings(path, words)
    assert table.matrix.shape == (5, dim)
    assert table.found.tolist() == [False, True, True, False, True]
    for row, word in ((1, "word19999"), (2, "word7"), (4, "word12345")):
        np.testing.assert_allclose(table.matrix[row], many[word], rtol=1e-6)


def test_reading_stops_once_every_word_is_found(tmp_path):
    # Everything after the needed words is garbage that a full read would reject.
    path = write_word2vec(tmp_path / "v.bin", VECTORS, header=b"100 3\n", tail=b"\x00" * 7)
    table = load_embeddings(path, ["<pad>", "the", "great"])
    assert table.found[1:].all()
    glove = tmp_path / "g.txt"
    glove.write_text("the 1 2 3\ngreat 4 5 6\nbroken 1 2\ncut 1", encoding="utf-8")
    np.testing.assert_array_equal(load_embeddings(glove, ["great"]).matrix[0], [4, 5, 6])


def test_glove_words_with_spaces_are_read_whole(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("the 1 2 3\n. . . 4 5 6\n", encoding="utf-8")
    np.testing.assert_array_equal(load_embeddings(path, [". . ."]).matrix[0], [4, 5, 6])


def test_missing_file_says_what_to_give(tmp_path):
    with pytest.raises(ConvsuiteError, match=r"No embedding file at .*nope\.bin: give data\.embeddings=PATH to "
                                             r"a word2vec \.bin, GloVe \.txt or fastText \.vec file"):
        load_embeddings(tmp_path / "nope.bin", ["the"])


def test_a_text_vector_of_the_wrong_dimension_names_the_line_word_and_both_dimensions(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("the 1 2 3\nmovie 1 2\ngreat 1 2 3\n", encoding="utf-8")
    with pytest.raises(ConvsuiteError, match=r"g\.txt: line 2 \(word 'movie'\) has a 2-d vector where the "
                                             r"file's vectors are 3-d"):
        load_embeddings(path, ["great"])
    vec = tmp_path / "f.vec"
    vec.write_text("3 3\nthe 1 2 3\nmovie 1 2 3 4\ngreat 1 2 3\n", encoding="utf-8")
    with pytest.raises(ConvsuiteError, match=r"f\.vec: line 3 \(word 'movie'\) has a 4-d vector where the "
                                             r"file's vectors are 3-d"):
        load_embeddings(vec, ["great"])


def test_a_text_value_that_is_not_a_number_names_the_line(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("the 1 2 3\nmovie 1 x 3\n", encoding="utf-8")
    with pytest.raises(ConvsuiteError, match=r"line 2 \(word 'movie'\) has a value that is not a number"):
        load_embeddings(path, ["movie"])


def test_a_binary_file_ending_inside_a_vector_is_truncated(tmp_path):
    whole = write_word2vec(tmp_path / "whole.bin", VECTORS).read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(whole[:-6])  # inside the last vector ("naïve"), after its word
    with pytest.raises(ConvsuiteError, match=r"cut\.bin is truncated: it ends inside the vector of 'naïve' "
                                             r"\(entry 4 of 4, 3-d\)"):
        load_embeddings(cut, ["naïve"])
    with pytest.raises(ConvsuiteError, match=r"cut\.bin is truncated: it ends inside the vector of 'naïve'"):
        load_embeddings(cut, ["absent"])  # skipped with a seek, still noticed


def test_a_binary_file_with_fewer_vectors_than_its_header_is_truncated(tmp_path):
    path = write_word2vec(tmp_path / "short.bin", VECTORS, header=b"6 3\n")
    with pytest.raises(ConvsuiteError, match=r"short\.bin is truncated: it ends after 4 of the 6 vectors"):
        load_embeddings(path, ["absent"])
    inside_word = write_word2vec(tmp_path / "word.bin", VECTORS, header=b"5 3\n", tail=b"movi")
    with pytest.raises(ConvsuiteError, match=r"word\.bin is truncated: it ends inside the word of entry 5"):
        load_embeddings(inside_word, ["absent"])


def test_a_text_file_with_a_cut_last_line_is_truncated(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("the 1 2 3\nmovie 1 2", encoding="utf-8")
    with pytest.raises(ConvsuiteError, match=r"g\.txt is truncated: its last line 2 \(word 'movie'\) is cut "
                                             r"after 2 of 3 values"):
        load_embeddings(path, ["absent"])
    vec = write_text(tmp_path / "f.vec", VECTORS, header=True)
    vec.write_text(vec.read_text(encoding="utf-8").replace("4 3", "9 3", 1), encoding="utf-8")
    with pytest.raises(ConvsuiteError, match=r"f\.vec is truncated: it has 4 of the 9 vectors"):
        load_embeddings(vec, ["absent"])


def test_a_dimension_that_does_not_match_the_file_is_refused(embedding_file):
    with pytest.raises(ConvsuiteError, match=rf"{embedding_file.name} holds 3-d vectors but dim=300 was asked"):
        load_embeddings(embedding_file, ["the"], dim=300)
    assert load_embeddings(embedding_file, ["the"], dim=3).dim == 3


@pytest.mark.parametrize("name, header", [("v.bin", b"300\n"), ("v.bin", b"3 x\n"), ("v.vec", b"the 1 2 3\n")])
def test_a_header_that_is_not_two_integers_is_refused(tmp_path, name, header):
    path = tmp_path / name
    path.write_bytes(header + b"the 1 2 3\n")
    with pytest.raises(ConvsuiteError, match=rf"{name} is not a (word2vec|fasttext) file: its first line should "
                                             r"be 'V D'"):
        load_embeddings(path, ["the"])


def test_a_fasttext_model_bin_gets_a_hint_to_use_the_vec_file(tmp_path):
    path = tmp_path / "cc.en.300.bin"
    path.write_bytes(struct.pack("<ii", 793712314, 12) + b"\x00" * 32)
    with pytest.raises(ConvsuiteError, match=r"use its \.vec file"):
        load_embeddings(path, ["the"])


def test_an_empty_glove_file_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ConvsuiteError, match=r"empty\.txt holds no vectors"):
        load_embeddings(path, ["the"])


@pytest.mark.parametrize("variant, name", [("static", "CNN-static"), ("CNN-non-static", "CNN-non-static"),
                                           ("kim-multichannel", "CNN-multichannel")])
def test_static_variants_say_in_one_sentence_which_file_they_need(variant, name):
    message = embedding_help(variant)
    assert message.startswith(f"{name} needs pre-trained word vectors: give data.embeddings=PATH")
    assert "300-d GoogleNews word2vec file" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_embedding_help_for_rand_and_unknown_variants():
    assert "needs no pre-trained word vectors" in embedding_help("rand")
    with pytest.raises(ConvsuiteError, match="Unknown text variant 'dynamic'"):
        embedding_help("dynamic")


def test_summary_reports_coverage_and_range(embedding_file):
    summary = load_embeddings(embedding_file, ["<pad>", "the", "zzz"], unknown_range=0.1).summary()
    assert summary.startswith("1 of 2 words (50.0%) found in ")
    assert "3-d" in summary and "U[-0.1, 0.1]" in summary


@pytest.mark.parametrize("name", ["vectors.bin.gz", "glove.txt.gz", "wiki.vec.gz"])
def test_gzipped_files_read_like_the_plain_ones(tmp_path, name):
    import gzip

    plain_name = name[: -len(".gz")]
    if plain_name.endswith(".bin"):
        plain = write_word2vec(tmp_path / plain_name, VECTORS)
    else:
        plain = write_text(tmp_path / plain_name, VECTORS, header=plain_name.endswith(".vec"))
    packed = tmp_path / "packed" / name
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    words = ["<pad>", "<unk>", "great", "absent", "naïve"]
    expected, got = load_embeddings(plain, words), load_embeddings(packed, words)
    np.testing.assert_array_equal(got.matrix, expected.matrix)
    assert got.format == expected.format and got.found.tolist() == expected.found.tolist()
    if plain_name.endswith(".bin"):  # the skipped vectors are read through, and a cut inside one is noticed
        cut = tmp_path / "cut.bin.gz"
        cut.write_bytes(gzip.compress(plain.read_bytes()[:-6]))
        with pytest.raises(ConvsuiteError, match=r"cut\.bin\.gz is truncated: it ends inside the vector of 'naïve'"):
            load_embeddings(cut, ["absent"])


def test_a_damaged_gzip_file_is_one_clear_error(tmp_path):
    import gzip

    whole = gzip.compress(write_word2vec(tmp_path / "v.bin", VECTORS).read_bytes())
    cut = tmp_path / "cut.bin.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ConvsuiteError, match=r"cut\.bin\.gz is a damaged or truncated gzip file"):
        load_embeddings(cut, ["absent"])
