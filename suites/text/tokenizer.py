"""Kim's sentence cleaning, the vocabulary built on the training fold, and reading sentence files.

The cleaning reproduces the preprocessing of Kim, "Convolutional Neural Networks for Sentence
Classification" (EMNLP 2014): only ASCII letters, digits and ``( ) , ! ? ' ``` survive, the
English clitics ``'s 've n't 're 'd 'll`` become tokens of their own, ``, ! ( ) ?`` are split off,
and the text is lowercased (Kim kept the case for TREC: ``lowercase=False``). One difference: the
clitics are split whatever their case ("DON'T" -> "DO N'T", "do n't" lowercased), where Kim's
expressions matched lowercase ones only; on his data sets the two agree. Accented letters are not
ASCII and become spaces, as in Kim's code ("café" -> "caf").

The vocabulary is built from training sentences only, so a word seen only in the test fold is
unknown, as it would be for a deployed model. It is saved with the model (``to_json``) and checked
on restore (``fingerprint``) so that evaluation and prediction see exactly the ids training saw.

Imports no Keras.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from convsuite.common.errors import ConvsuiteError

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1
DEFAULT_MIN_LENGTH = 5  # the widest filter window of Kim's model (3, 4, 5 words) must fit a sentence
VOCABULARY_FORMAT = 1

_NOT_KEPT = re.compile(r"[^A-Za-z0-9(),!?'`]")
_CLITIC = re.compile(r"('s|'ve|n't|'re|'d|'ll)", re.IGNORECASE)  # Kim's matched lowercase only: "ISN'T" too here
_PUNCTUATION = re.compile(r"([,!()?])")
_WHITESPACE = re.compile(r"\s+")


def clean_sentence(text: str, lowercase: bool = True) -> str:
    """Kim's (2014) cleaning of one sentence: its tokens joined by single spaces ("" when none)."""
    if not isinstance(text, str):
        raise ConvsuiteError(f"clean_sentence takes a str, not {type(text).__name__}; decode bytes first "
                             "(read_sentence_file does)")
    text = _NOT_KEPT.sub(" ", text)
    text = _CLITIC.sub(r" \1", text)  # "isn't" -> "is n't", "it's" -> "it 's"
    text = _PUNCTUATION.sub(r" \1 ", text)
    text = _WHITESPACE.sub(" ", text).strip()
    return text.lower() if lowercase else text


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """The tokens of one sentence after `clean_sentence`; empty or blank text gives ``[]``."""
    cleaned = clean_sentence(text, lowercase=lowercase)
    return cleaned.split(" ") if cleaned else []


class Vocabulary:
    """Word <-> id map: 0 is padding, 1 the unknown word, then words by descending count, ties alphabetically.

    ``words[i]`` is the word of id ``i`` (``words[0] == "<pad>"``, ``words[1] == "<unk>"``).
    ``lowercase`` records how the sentences were tokenized, so a restored model tokenizes new text
    the way training did (`tokenize`).
    """

    def __init__(self, words: Sequence[str], lowercase: bool = True):
        words = list(words)
        if words[:2] != [PAD, UNK]:
            raise ConvsuiteError(f"a vocabulary's word list starts with {PAD!r}, {UNK!r}, not {words[:2]!r}; "
                                 "build it with Vocabulary.build")
        if len(set(words)) != len(words):
            repeated = sorted(word for word, n in Counter(words).items() if n > 1)
            raise ConvsuiteError(f"a vocabulary lists each word once, but {repeated[:5]!r} are repeated; "
                                 "build it with Vocabulary.build")
        self.words = words
        self.lowercase = bool(lowercase)
        self._ids = {word: i for i, word in enumerate(words)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_count: int = 1, max_size: int | None = None,
              lowercase: bool = True) -> "Vocabulary":
        """The vocabulary of the training sentences: words seen at least ``min_count`` times, the
        ``max_size`` most frequent of them when given (padding and unknown not counted)."""
        if min_count < 1:
            raise ConvsuiteError(f"min_count is {min_count}; give 1 or more (1 keeps every training word)")
        if max_size is not None and max_size < 0:
            raise ConvsuiteError(f"max_size is {max_size}; give 0 or more, or None for no limit")
        if isinstance(token_lists, str):
            raise ConvsuiteError("Vocabulary.build takes lists of tokens (tokenize each sentence), not one str")
        counts = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise ConvsuiteError(f"Vocabulary.build takes lists of tokens, got the str {tokens[:40]!r}; "
                                     "tokenize each sentence first")
            counts.update(tokens)
        for reserved in (PAD, UNK):
            counts.pop(reserved, None)
        ranked = sorted((word for word, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[:max_size]
        return cls([PAD, UNK, *ranked], lowercase=lowercase)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._ids and self._ids[word] > UNK_ID

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words and self.lowercase == other.lowercase

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} ids, lowercase={self.lowercase})"

    def index(self, word: str) -> int:
        """The id of ``word``; `UNK_ID` for a word outside the vocabulary."""
        return self._ids.get(word, UNK_ID)

    def tokenize(self, text: str) -> list[str]:
        """`tokenize` with the case setting the vocabulary was built with."""
        return tokenize(text, lowercase=self.lowercase)

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """The int32 ids of one sentence's tokens (unknown words -> `UNK_ID`), unpadded."""
        if isinstance(tokens, str):
            raise ConvsuiteError(f"encode takes a list of tokens, got the str {tokens[:40]!r}; "
                                 "use vocabulary.tokenize(text) first")
        return np.fromiter((self._ids.get(token, UNK_ID) for token in tokens), dtype=np.int32, count=len(tokens))

    def encode_batch(self, token_lists: Sequence[Sequence[str]], length: int | None = None,
                     bucket: int | None = None, min_length: int = DEFAULT_MIN_LENGTH) -> np.ndarray:
        """Ids ``[n, L]`` padded at the end with `PAD_ID`.

        ``L`` is the longest sentence of the batch, or ``length`` when given (longer sentences are cut
        to it), raised to ``min_length`` so the widest filter window fits even the shortest batch,
        then rounded up to a multiple of ``bucket`` when given (few distinct shapes, few retraces).
        """
        if length is not None and length < 1:
            raise ConvsuiteError(f"length is {length}; give 1 or more, or None for the longest sentence")
        if bucket is not None and bucket < 1:
            raise ConvsuiteError(f"bucket is {bucket}; give 1 or more, or None for no rounding")
        if min_length < 0:
            raise ConvsuiteError(f"min_length is {min_length}; give 0 or more (the widest filter window)")
        encoded = [self.encode(tokens) for tokens in token_lists]
        width = length if length is not None else max((len(ids) for ids in encoded), default=0)
        width = max(width, min_length, 1)
        if bucket is not None:
            width = -(-width // bucket) * bucket
        batch = np.full((len(encoded), width), PAD_ID, dtype=np.int32)
        for row, ids in zip(batch, encoded):
            ids = ids[:width]
            row[:len(ids)] = ids
        return batch

    def decode(self, ids: Iterable[int], skip_padding: bool = True) -> list[str]:
        """The words of ``ids`` (``<unk>`` for unknown words), padding left out unless ``skip_padding=False``."""
        words = []
        for i in np.asarray(ids).ravel().tolist():
            if not 0 <= i < len(self.words):
                raise ConvsuiteError(f"id {i} is outside this vocabulary of {len(self.words)} ids; "
                                     "decode with the vocabulary the ids were encoded with")
            if i != PAD_ID or not skip_padding:
                words.append(self.words[i])
        return words

    def coverage(self, token_lists: Iterable[Sequence[str]]) -> float:
        """Share of the tokens of ``token_lists`` that are in the vocabulary (1.0 when there are none)."""
        known = total = 0
        for tokens in token_lists:
            total += len(tokens)
            known += sum(1 for token in tokens if token in self)
        return known / total if total else 1.0

    def fingerprint(self) -> str:
        """sha256 of the word list in id order: equal fingerprints mean equal ids for every word."""
        return hashlib.sha256(json.dumps(self.words, ensure_ascii=True).encode("ascii")).hexdigest()

    def to_json(self) -> str:
        """The vocabulary as JSON text, to save next to the model."""
        return json.dumps({"format": VOCABULARY_FORMAT, "lowercase": self.lowercase, "words": self.words,
                           "fingerprint": self.fingerprint()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Vocabulary":
        """The vocabulary `to_json` wrote; refuses text that is not one, or whose words changed since."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as error:
            raise ConvsuiteError(f"the vocabulary is not valid JSON ({error}); restore it from the "
                                 "vocabulary file saved with the model") from None
        if not isinstance(data, dict) or not isinstance(data.get("words"), list):
            raise ConvsuiteError("the vocabulary JSON has no 'words' list; restore it from the vocabulary "
                                 "file saved with the model")
        if data.get("format") != VOCABULARY_FORMAT:
            raise ConvsuiteError(f"the vocabulary JSON has format {data.get('format')!r}, this version reads "
                                 f"format {VOCABULARY_FORMAT}; retrain or use the matching convsuite version")
        vocabulary = cls(data["words"], lowercase=data.get("lowercase", True))
        if "fingerprint" in data and data["fingerprint"] != vocabulary.fingerprint():
            raise ConvsuiteError(f"the vocabulary's words do not match its saved fingerprint "
                                 f"{str(data['fingerprint'])[:12]}...; the file was edited or damaged, "
                                 "restore it from the run that trained the model")
        return vocabulary


def read_sentence_file(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """The lines of ``path``, one sentence each, without line endings (blank lines kept as ``""``,
    so line ``i`` still matches label ``i``). Kim's MR files are latin-1: ``encoding="latin-1"``
    reads any bytes."""
    path = Path(path)
    if not path.is_file():
        raise ConvsuiteError(f"sentence file {path} does not exist; give a text file with one sentence per line")
    return sentence_lines(path.read_bytes(), str(path), encoding)


def sentence_lines(raw: bytes, source: str, encoding: str = "utf-8",
                   latin1_advice: str = 'read it with encoding="latin-1"') -> list[str]:
    """`read_sentence_file`'s reading of bytes already in hand (a file's, or standard input's): text
    that is not valid ``encoding`` is refused naming its line in ``source``, never guessed at, and
    ``latin1_advice`` says how the caller chooses latin-1, which reads any bytes."""
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise ConvsuiteError(f"encoding {encoding!r} is unknown; give one Python knows, such as 'utf-8' "
                             "or 'latin-1'") from None
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        line = raw.count(b"\n", 0, error.start) + 1
        bad = raw[error.start:error.end].hex()
        raise ConvsuiteError(
            f"line {line} of {source} is not valid {encoding} (byte 0x{bad} at byte {error.start - line_start + 1} "
            f"of the line); if the text is latin-1 (as Kim's MR files are), {latin1_advice}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]
